"""The app as gunicorn serves it (wsgi.py), plus faults that a test asks for by a header.

Loaded only by the fault tests (`gunicorn … tests.faults.fault_app:app`): a request with
`X-Test-Fault: NAME` makes its own worker fail at one exact moment, so each fault is hit
every run, not by luck.

- kill-before-commit: the worker is SIGKILLed after the view, before the commit.
- kill-after-commit: the worker is SIGKILLed after the commit, before the answer is sent.
- cut-connection-in-view: (PostgreSQL) the request's database connection is terminated
  with pg_terminate_backend after the write lock, before the view reads anything.
- cut-connection-before-commit: (PostgreSQL) the same after the view, before the commit.
"""

import os
import signal

from flask import request
from sqlalchemy import text

from booking import create_app
from booking.extensions import db

HEADER = "X-Test-Fault"

app = create_app()


def terminate_own_connection() -> None:
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    with db.engine.connect() as other:
        # Waits (up to 5 s) until the backend is gone, so the next statement surely fails.
        other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        other.commit()


@app.before_request  # after the app's own hooks: the write lock is taken
def fault_in_view():
    if request.headers.get(HEADER) == "cut-connection-in-view":
        terminate_own_connection()


@app.after_request  # registered last, so it runs first: before the commit
def fault_before_commit(response):
    fault = request.headers.get(HEADER)
    if fault == "kill-before-commit":
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == "cut-connection-before-commit":
        terminate_own_connection()
    return response


flask_wsgi_app = app.wsgi_app


def faulty_wsgi_app(environ, start_response):
    if environ.get("HTTP_X_TEST_FAULT") == "kill-after-commit":

        def keep_quiet(status, headers, exc_info=None):
            return lambda data: None

        b"".join(flask_wsgi_app(environ, keep_quiet))  # the request ran and committed
        os.kill(os.getpid(), signal.SIGKILL)
    return flask_wsgi_app(environ, start_response)


app.wsgi_app = faulty_wsgi_app

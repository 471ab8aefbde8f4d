"""The floor for bench/http_load.py: a bare Flask app under the same gunicorn settings.

`GET /floor/<size>` answers an HTML body of `size` bytes (the size of our page or JSON), and
`POST /floor/insert` inserts one row into its own table on the same database and answers a JSON
body of BENCH_FLOOR_INSERT_SIZE bytes: the least any booking can cost.
"""

import os
import time

import sqlalchemy as sa
from flask import Flask, Response, request

app = Flask(__name__)
engine = sa.create_engine(os.environ["BENCH_FLOOR_DATABASE_URI"], pool_pre_ping=True)
rows = sa.Table(
    "bench_floor_row",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(120)),
    sa.Column("starts_at", sa.String(40)),
)
for _attempt in range(100):  # both workers try: the one that loses waits, then finds the table
    try:
        rows.metadata.create_all(engine)
        break
    except sa.exc.DBAPIError:  # SQLite: "database is locked"; PostgreSQL: a duplicate type
        time.sleep(0.1)
else:
    rows.metadata.create_all(engine)  # ten seconds on: let the error show
INSERT_SIZE = int(os.environ.get("BENCH_FLOOR_INSERT_SIZE", "400"))
BODIES: dict[int, bytes] = {}


@app.get("/floor/<int:size>")
def floor(size: int):
    body = BODIES.get(size)
    if body is None:
        body = BODIES[size] = (b"<p>" + b"x" * max(size - 7, 0) + b"</p>")[:size]
    return Response(body, mimetype="text/html")


@app.post("/floor/insert")
def insert():
    payload = request.get_json(silent=True) or {}
    with engine.begin() as connection:
        connection.execute(
            rows.insert().values(name=payload.get("name", ""), starts_at=payload.get("start", ""))
        )
    body = b'{"ok":"' + b"x" * max(INSERT_SIZE - 9, 0) + b'"}'
    return Response(body, status=201, mimetype="application/json")

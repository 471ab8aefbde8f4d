"""Rendered public answers kept per process while the data under them is unchanged.

The slot page and the slots API are what families load most; both are the same for every
anonymous visitor of a service, week and language. The key carries the schedule's and the
service's versions (booking/schedule/inputs_cache.py) and the current minute, so a change
anywhere, or the minimum notice moving on, gives a new key. Staff (whose pages differ) and
pages with a message waiting (flash) are never cached.
"""

from collections.abc import Callable
from datetime import datetime

from flask import Response, current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

from booking.extensions import db
from booking.offices.models import Service
from booking.schedule.inputs_cache import app_cache, current_versions


def cached_answer(
    name: str, service: Service, parts: tuple, now: datetime, render: Callable[[], str]
) -> str:
    """`render()`'s text, or the text it gave for the same key within the last minute."""
    cache = app_cache("page_cache")
    if cache is None or current_user.is_authenticated or session.get("_flashes"):
        return render()
    versions = current_versions(db.session(), service.id)
    if versions is None:  # this request changed schedule data: never keep its view
        return render()
    minute = now.replace(second=0, microsecond=0)
    # The whole query too: the language links repeat it, so one visitor's ?ref=… is theirs.
    query = tuple(sorted(request.args.items(multi=True)))
    key = (name, service.id, parts, query, str(get_locale()), versions, minute)
    found = cache.get(key)
    if found is None:
        found = render()
        cache.put(key, found)
    return found


def conditional_answer(body: str, mimetype: str = "text/html") -> Response:
    """The answer with an ETag of its body: a browser that has it gets 304 and no body. Kept
    private (it may carry the visitor's language) and revalidated every time."""
    response = current_app.response_class(body, mimetype=mimetype)
    response.add_etag()
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)

"""Refuse input no page or API call can use, before any view sees it (400, never a 500).

Control characters (NUL first of all: PostgreSQL refuses it in text) in the path, the query,
form fields and JSON strings; lone surrogates in JSON (they cannot be stored as UTF-8); JSON
nested deeper than any request of ours. Tabs and line breaks stay allowed in values (notes).
"""

import re

from flask import Flask, abort, request

from booking.core.converters import IdConverter

# C0 controls and DEL; tab, line feed and carriage return are ordinary in text areas.
CONTROL_IN_VALUE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_IN_NAME = re.compile(r"[\x00-\x1f\x7f]")
UNSTORABLE_IN_JSON = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
MAX_JSON_DEPTH = 32
FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _multidict_ok(values) -> bool:
    for name, value in values.items(multi=True):
        if CONTROL_IN_NAME.search(name) or CONTROL_IN_VALUE.search(value):
            return False
    return True


def _json_ok(document) -> bool:
    """Walk without recursion: no string or key with control characters, bounded depth."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if UNSTORABLE_IN_JSON.search(value):
                return False
        elif isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return False
            if isinstance(value, dict):
                for key, item in value.items():
                    if UNSTORABLE_IN_JSON.search(key):
                        return False
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)
    return True


def guard_input() -> None:
    if CONTROL_IN_NAME.search(request.path) or not _multidict_ok(request.args):
        abort(400)
    if request.mimetype in FORM_MIMETYPES and not _multidict_ok(request.form):
        abort(400)
    if request.is_json:
        try:
            # Parsed once here; the view's get_json(silent=True) gets the cached result.
            document = request.get_json(silent=True)
        except RecursionError:
            abort(400)
        if document is not None and not _json_ok(document):
            abort(400)


def init_app(app: Flask) -> None:
    """Before the blueprints: the `int` converter must be in place when routes are added."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(guard_input)

"""Ready JSON responses for hot routes (DESIGN.md: a route may return a `Response`; flask-smorest
then skips its marshmallow dump, and the documented schema must stay true: tests compare these
bytes with the schema's own dump).

orjson writes UTF-8 (Chinese as is, like the app's JSON provider) and is several times faster
than marshmallow + json. Datetimes are given as `isoformat()` strings, as marshmallow dumps them.
"""
from __future__ import annotations

from datetime import datetime

import orjson
from flask import Response


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(data), status=status, headers=headers, mimetype="application/json")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

"""Base schema and fields shared by resources."""
from __future__ import annotations

import marshmallow as ma

# Text a database cannot store: NUL (PostgreSQL refuses it) and unpaired UTF-16 surrogates
# (not encodable as UTF-8). Refused at the edge for every field, so no store ever sees them.
_UNSTORABLE = {chr(0)} | {chr(c) for c in range(0xD800, 0xE000)}


def _unstorable_path(value, path: str = "") -> str | None:
    if isinstance(value, str):
        return path if not _UNSTORABLE.isdisjoint(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _unstorable_path(key, path) if isinstance(key, str) else None
            found = found if found is not None else _unstorable_path(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _unstorable_path(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


class Schema(ma.Schema):
    """Unknown fields are rejected: a typo in a request is an error, not silently ignored."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    @ma.pre_load(pass_collection=True)
    def _refuse_unstorable_text(self, data, **kwargs):
        bad = _unstorable_path(data)
        if bad is not None:
            raise ma.ValidationError({bad or "_schema": ["Text must not contain NUL or unpaired surrogate characters."]})
        return data


class CursorPageQuery(Schema):
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^\d{1,18}$"))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))

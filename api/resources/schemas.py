"""Base schema and fields shared by resources."""
from __future__ import annotations

import marshmallow as ma


class Schema(ma.Schema):
    """Unknown fields are rejected: a typo in a request is an error, not silently ignored."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


class CursorPageQuery(Schema):
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^\d{1,18}$"))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))

import marshmallow as ma

from api.access.models import ACCESS_KINDS
from api.identity.identity_numbers import ID_TYPES
from api.schemas import CursorPageQuery, Schema


class RealNameSchema(Schema):
    verified = ma.fields.Boolean(required=True)
    name = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    id_type = ma.fields.String(allow_none=True)
    id_number = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    verified_at = ma.fields.DateTime(allow_none=True)


class ProfileSchema(Schema):
    id = ma.fields.Integer(required=True)
    phone = ma.fields.String(required=True, metadata={"description": "masked, e.g. 138****5678"})
    roles = ma.fields.List(ma.fields.String(), required=True)
    created_at = ma.fields.DateTime(required=True)
    real_name = ma.fields.Nested(RealNameSchema, required=True)


class RealNameRequest(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    id_type = ma.fields.String(required=True, validate=ma.validate.OneOf(ID_TYPES))
    id_number = ma.fields.String(required=True, validate=ma.validate.Length(min=5, max=32))


class AccessLogQuery(CursorPageQuery):
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(ACCESS_KINDS))


class AccessRecordSchema(Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    accessor = ma.fields.Dict(required=True, metadata={"description": "who looked: venue, staff (masked), app"})
    scene = ma.fields.String(allow_none=True)
    purpose = ma.fields.String(allow_none=True)
    fields = ma.fields.List(ma.fields.String(), required=True)
    subject_ref = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime(required=True)


class AccessLogPage(Schema):
    items = ma.fields.List(ma.fields.Nested(AccessRecordSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True)

import marshmallow as ma

from api.codes.models import VENUE_KINDS
from api.schemas import CursorPageQuery, Schema
from qr.codes import SCENES

_SCENES = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(SCENES)),
                         validate=ma.validate.Length(min=1, max=len(SCENES)))


class VenueCreate(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    address = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=256))
    district = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(VENUE_KINDS))
    scenes = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(SCENES)), load_default=None,
                            validate=ma.validate.Length(min=1, max=len(SCENES)),
                            metadata={"description": "scenes the venue accepts; default by kind"})


class VenueSchema(Schema):
    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    district = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    scenes = ma.fields.List(ma.fields.String(), required=True)
    status = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class VenuePage(Schema):
    items = ma.fields.List(ma.fields.Nested(VenueSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True)


class VenueListQuery(CursorPageQuery):
    pass


class MyVenueSchema(VenueSchema):
    granted_scenes = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "the scenes I may verify here (a subset of the venue's `scenes`)"})
    granted_at = ma.fields.DateTime(required=True)


class MyVenues(Schema):
    items = ma.fields.List(ma.fields.Nested(MyVenueSchema), required=True)


class VenueStaffGrant(Schema):
    phone = ma.fields.String(required=True, validate=ma.validate.Length(min=5, max=20))
    scenes = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(SCENES)), required=True,
                            validate=ma.validate.Length(min=1, max=len(SCENES)))


class VenueStaffSchema(Schema):
    user_id = ma.fields.Integer(required=True)
    phone = ma.fields.String(required=True, metadata={"description": "masked"})
    name = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    scenes = ma.fields.List(ma.fields.String(), required=True)
    granted_at = ma.fields.DateTime(required=True)
    revoked_at = ma.fields.DateTime(allow_none=True)


class PlaceVenueSchema(Schema):
    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    district = ma.fields.String(allow_none=True)


class PlaceCodeSchema(Schema):
    payload = ma.fields.String(required=True, metadata={"description": "compact JWS, typ ssb-place+jwt"})
    expires_at = ma.fields.Integer(required=True)
    venue = ma.fields.Nested(PlaceVenueSchema, required=True)


class CheckinRequest(Schema):
    payload = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4096))


class CheckinSchema(Schema):
    id = ma.fields.Integer(required=True)
    venue = ma.fields.Nested(PlaceVenueSchema, required=True)
    checked_in_at = ma.fields.DateTime(required=True)


class DisableRequest(Schema):
    reason = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))


class UserStatusSchema(Schema):
    id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)

import marshmallow as ma

from api.schemas import Schema
from qr.codes import SCENES

SCENE = ma.fields.String(required=True, validate=ma.validate.OneOf(SCENES),
                         metadata={"description": "general, transport, medical, culture, veteran, home_service, "
                                                  "enterprise"})


def _for_dependent():
    return ma.fields.String(data_key="for", load_default=None, validate=ma.validate.Length(min=1, max=24), metadata={
        "description": "a family link id (GET /v1/me/dependents): the code of that dependent, shown by me"})


class CodeQuery(Schema):
    scene = ma.fields.String(load_default="general", validate=ma.validate.OneOf(SCENES))
    count = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=10),
                              metadata={"description": "consecutive codes for the next N code lifetimes"})
    dependent = _for_dependent()


class ImageQuery(Schema):
    scene = ma.fields.String(load_default="general", validate=ma.validate.OneOf(SCENES))
    format = ma.fields.String(load_default="png", validate=ma.validate.OneOf(["png", "svg"]))
    dependent = _for_dependent()


class IssuedCodeSchema(Schema):
    payload = ma.fields.String(required=True, metadata={"description": "compact JWS, typ ssb-code+jwt"})
    not_before = ma.fields.Integer(required=True, metadata={"description": "unix seconds"})
    expires_at = ma.fields.Integer(required=True, metadata={"description": "unix seconds"})


class CodesSchema(Schema):
    codes = ma.fields.List(ma.fields.Nested(IssuedCodeSchema), required=True)
    scene = ma.fields.String(required=True)
    refresh_after = ma.fields.Integer(required=True, metadata={"description": "seconds until the app should "
                                                                              "fetch new codes"})
    server_time = ma.fields.Integer(required=True, metadata={"description": "unix seconds, to correct the "
                                                                            "device clock offset"})


class CodeVerifyRequest(Schema):
    payload = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4096))
    venue_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=24))


class CodeHolderSchema(Schema):
    name = ma.fields.String(allow_none=True, metadata={"description": "masked, e.g. *三"})
    real_name_verified = ma.fields.Boolean(required=True)


class ScanVenueSchema(Schema):
    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    district = ma.fields.String(allow_none=True)


class ShownByGuardianSchema(Schema):
    name = ma.fields.String(allow_none=True, metadata={"description": "the guardian's name, masked"})
    relation = ma.fields.String(required=True, metadata={"description": "minor_child | elder"})


class CodeIssuerSchema(Schema):
    name = ma.fields.String(required=True, metadata={"description": "the issuing peer platform"})
    region = ma.fields.String(required=True, metadata={"description": "its GB/T 2260 code"})
    region_name = ma.fields.String(allow_none=True)


class CodeVerifyResult(Schema):
    valid = ma.fields.Boolean(required=True)
    verdict = ma.fields.String(required=True, metadata={"description": "accepted"})
    scene = ma.fields.String(required=True)
    holder = ma.fields.Nested(CodeHolderSchema, required=True)
    entitlement = ma.fields.Dict(required=True, metadata={"description": "only what the scene needs"})
    venue = ma.fields.Nested(ScanVenueSchema, required=True)
    expires_at = ma.fields.Integer(required=True)
    checked_at = ma.fields.Integer(required=True)
    shown_by_guardian = ma.fields.Boolean(metadata={
        "description": "true: a guardian showed a dependent's code (holder and entitlement are the dependent's)"})
    guardian = ma.fields.Nested(ShownByGuardianSchema, metadata={"description": "present when shown_by_guardian"})
    issuer = ma.fields.Nested(CodeIssuerSchema, metadata={
        "description": "present when a trusted peer platform (长三角互认) issued the code"})


class RevocationQuery(Schema):
    since = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^\d{1,18}$"),
                             metadata={"description": "next_cursor of the previous page; omit for all"})
    limit = ma.fields.Integer(load_default=500, validate=ma.validate.Range(min=1, max=1000))


class RevocationSchema(Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "holder | key"})
    subject = ma.fields.String(required=True, metadata={"description": "holder id (code sub) or key id (kid)"})
    reason = ma.fields.String(allow_none=True)
    until = ma.fields.Integer(allow_none=True, metadata={"description": "key: published until (unix seconds)"})
    created_at = ma.fields.DateTime(required=True)


class RevocationPage(Schema):
    items = ma.fields.List(ma.fields.Nested(RevocationSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, metadata={"description": "pass as since next time"})
    more = ma.fields.Boolean(required=True)


# OpenAPI examples: a code shown, and verified by staff.
_PAYLOAD = ("eyJhbGciOiJFZERTQSIsImtpZCI6IjE3MzU2ODk2MDAiLCJ0eXAiOiJzc2ItY29kZStqd3QifQ."
            "eyJpc3MiOiJodHRwczovL3NzYi5zaC5nb3YuY24iLCJzdWIiOiI5ZjJjLi4uIiwic2NuIjoiZ2VuZXJhbCJ9.c2lnbmF0dXJl")
CODES_EXAMPLE = {"codes": [{"payload": _PAYLOAD, "not_before": 1767225600, "expires_at": 1767225660}],
                 "scene": "general", "refresh_after": 50, "server_time": 1767225600}
VERIFY_REQUEST_EXAMPLE = {"payload": _PAYLOAD, "venue_id": "vn_412d33b83e884e5c"}
VERIFY_RESULT_EXAMPLE = {"valid": True, "verdict": "accepted", "scene": "general",
                         "holder": {"name": "*明", "real_name_verified": True},
                         "entitlement": {"real_name_verified": True},
                         "venue": {"id": "vn_412d33b83e884e5c", "name": "人民广场站", "district": "黄浦区"},
                         "expires_at": 1767225660, "checked_at": 1767225610, "shown_by_guardian": False}

import marshmallow as ma

from api.schemas import Schema
from api.trust.regions import is_delta_region
from qr.codes import SCENES
from qr.federation import PEER_ALGORITHMS


def _delta_region(value: str) -> None:
    if not is_delta_region(value):
        raise ma.ValidationError("A GB/T 2260 code of Shanghai, Jiangsu, Zhejiang or Anhui (31/32/33/34), "
                                 "province, prefecture-level city or county, e.g. 320500 or 320583.")


class PeerCreate(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64),
                            metadata={"description": "e.g. 苏服办"})
    region = ma.fields.String(required=True, validate=_delta_region,
                              metadata={"description": "GB/T 2260 code in 沪苏浙皖, e.g. 320000"})
    issuer = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=255),
                                                       ma.validate.Regexp(r"^[\x21-\x7e]+$")],
                              metadata={"description": "the `iss` of the peer's codes"})
    jwks_url = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2048),
                                metadata={"description": "https (plain http to loopback hosts only)"})
    token_types = ma.fields.List(
        ma.fields.String(validate=ma.validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$")),
        required=True, validate=ma.validate.Length(min=1, max=5),
        metadata={"description": "`typ` header values the peer signs codes with, e.g. js-code+jwt"})
    scenes = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(SCENES)), required=True,
                            validate=ma.validate.Length(min=1, max=len(SCENES)),
                            metadata={"description": "scenes we trust the peer's codes for"})
    algorithms = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(PEER_ALGORITHMS)), load_default=None,
                                validate=ma.validate.Length(min=1, max=len(PEER_ALGORITHMS)),
                                metadata={"description": "EdDSA and/or ES256 (default both)"})


class PeerKeySchema(Schema):
    kid = ma.fields.String(required=True)
    alg = ma.fields.String(required=True)


class RefreshSchema(Schema):
    at = ma.fields.DateTime(required=True)
    status = ma.fields.String(required=True, metadata={"description": "ok | not_modified | error"})
    http_status = ma.fields.Integer(allow_none=True)
    key_count = ma.fields.Integer(required=True, metadata={"description": "usable keys held after it"})
    error = ma.fields.String(allow_none=True)
    detail = ma.fields.String(allow_none=True, metadata={"description": "e.g. keys skipped as unusable"})
    duration_ms = ma.fields.Integer(required=True)


class PeerSchema(Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    region = ma.fields.String(required=True)
    region_name = ma.fields.String(allow_none=True)
    issuer = ma.fields.String(required=True)
    jwks_url = ma.fields.String(required=True)
    token_types = ma.fields.List(ma.fields.String(), required=True)
    scenes = ma.fields.List(ma.fields.String(), required=True)
    algorithms = ma.fields.List(ma.fields.String(), required=True)
    key_status = ma.fields.String(required=True, metadata={
        "description": "pending (never fetched) | current | stale (last refresh failed, last good keys in use) "
                       "| expired (unreachable past TRUST_KEYS_MAX_AGE: its codes are refused)"})
    keys = ma.fields.List(ma.fields.Nested(PeerKeySchema), required=True)
    keys_fetched_at = ma.fields.DateTime(allow_none=True, metadata={"description": "last confirmed by the peer"})
    keys_valid_until = ma.fields.DateTime(allow_none=True)
    next_refresh_at = ma.fields.DateTime(required=True)
    consecutive_failures = ma.fields.Integer(required=True)
    last_refresh = ma.fields.Nested(RefreshSchema, allow_none=True)
    created_at = ma.fields.DateTime(required=True)


class PeerDetailSchema(PeerSchema):
    refreshes = ma.fields.List(ma.fields.Nested(RefreshSchema), required=True,
                               metadata={"description": "the most recent refreshes, newest first"})


class PeerList(Schema):
    items = ma.fields.List(ma.fields.Nested(PeerSchema), required=True)


class TrustListSchema(Schema):
    payload = ma.fields.String(required=True, metadata={
        "description": "compact JWS, EdDSA, typ ssb-trust-list+jwt, verify with /.well-known/jwks.json"})
    expires_at = ma.fields.Integer(required=True, metadata={"description": "unix seconds"})

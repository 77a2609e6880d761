import marshmallow as ma

from api.identity.identity_numbers import ID_TYPES
from api.identity.me_schemas import AccessLogPage  # noqa: F401  (re-exported for routes)
from api.licences.catalogue import LICENCE_TYPES, REGIONS
from api.schemas import CursorPageQuery, Schema

STATUSES = ["valid", "expired", "revoked", "not_yet_valid"]


# --- departments ---

class IssuerCreateRequest(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    licence_types = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(LICENCE_TYPES)), load_default=list,
                                   validate=ma.validate.Length(max=len(LICENCE_TYPES)),
                                   metadata={"description": "licence types it pushes"})
    proof_types = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=40)), load_default=list,
                                 validate=ma.validate.Length(max=64),
                                 metadata={"description": "e-proof types it decides (GET /v1/proof-types); "
                                                          "at least one of the two lists is needed"})


class IssuerCreated(Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    licence_types = ma.fields.List(ma.fields.String(), required=True)
    proof_types = ma.fields.List(ma.fields.String(), required=True)
    client_id = ma.fields.String(required=True)
    client_secret = ma.fields.String(required=True, metadata={"description": "shown once; stored hashed"})
    created_at = ma.fields.DateTime(required=True)


class IssuerTokenRequest(Schema):
    client_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    client_secret = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))


class IssuerTokenSchema(Schema):
    access_token = ma.fields.String(required=True, metadata={"description": "typ ssb-issuer+jwt"})
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True)


class LicenceHolderRequest(Schema):
    id_type = ma.fields.String(required=True, validate=ma.validate.OneOf([*ID_TYPES, "credit_code"]))
    id_number = ma.fields.String(required=True, validate=ma.validate.Length(min=5, max=32))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))


class LicenceUpsertRequest(Schema):
    holder = ma.fields.Nested(LicenceHolderRequest, required=True)
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(), required=True,
                            metadata={"description": "validated against the type's field schema (GET /v1/licence-types)"})
    valid_from = ma.fields.Date(required=True)
    valid_until = ma.fields.Date(load_default=None, allow_none=True, metadata={"description": "null: no expiry"})
    region = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=16), metadata={
        "description": f"GB/T 2260 province code ({', '.join(REGIONS)}) or its name"})


class IssuerLicenceSchema(Schema):
    id = ma.fields.Integer(required=True)
    type = ma.fields.String(required=True)
    number = ma.fields.String(required=True, metadata={"description": "masked"})
    status = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    created = ma.fields.Boolean(required=True)
    valid_from = ma.fields.Date(required=True)
    valid_until = ma.fields.Date(allow_none=True)
    region = ma.fields.String(required=True)
    updated_at = ma.fields.DateTime(required=True)


# --- catalogue ---

class LicenceFieldSpec(Schema):
    name = ma.fields.String(required=True)
    label_zh = ma.fields.String(required=True)
    label_en = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(["string", "date", "enum", "integer"]))
    required = ma.fields.Boolean(required=True)
    sensitive = ma.fields.Boolean(required=True)
    max_length = ma.fields.Integer()
    choices = ma.fields.List(ma.fields.String())


class LicenceTypeInfo(Schema):
    code = ma.fields.String(required=True)
    name_zh = ma.fields.String(required=True)
    name_en = ma.fields.String(required=True)
    holder_kind = ma.fields.String(required=True, validate=ma.validate.OneOf(["person", "enterprise"]))
    fields = ma.fields.List(ma.fields.Nested(LicenceFieldSpec), required=True)
    disclosable_fields = ma.fields.List(ma.fields.String(), required=True)


# --- residents ---

class LicenceHolder(Schema):
    name = ma.fields.String(required=True, metadata={"description": "masked"})
    id_type = ma.fields.String(required=True)
    id_number = ma.fields.String(required=True, metadata={"description": "masked"})


class LicenceRegion(Schema):
    code = ma.fields.String(required=True)
    name_zh = ma.fields.String(required=True)
    name_en = ma.fields.String(required=True)


class LicenceIssuerName(Schema):
    name = ma.fields.String(required=True)


class LicenceField(Schema):
    name = ma.fields.String(required=True)
    label_zh = ma.fields.String(required=True)
    label_en = ma.fields.String(required=True)
    value = ma.fields.String(required=True)
    masked = ma.fields.Boolean(required=True)


class Licence(Schema):
    id = ma.fields.Integer(required=True)
    type = ma.fields.String(required=True)
    type_name_zh = ma.fields.String(required=True)
    type_name_en = ma.fields.String(required=True)
    number = ma.fields.String(required=True, metadata={"description": "masked"})
    holder = ma.fields.Nested(LicenceHolder, required=True)
    issuer = ma.fields.Nested(LicenceIssuerName, required=True)
    region = ma.fields.Nested(LicenceRegion, required=True)
    fields = ma.fields.List(ma.fields.Nested(LicenceField), required=True)
    valid_from = ma.fields.Date(required=True)
    valid_until = ma.fields.Date(allow_none=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(STATUSES))
    days_to_expiry = ma.fields.Integer(allow_none=True)
    revoked_at = ma.fields.DateTime(allow_none=True)
    updated_at = ma.fields.DateTime(required=True)
    disclosable_fields = ma.fields.List(ma.fields.String(), required=True)


class LicenceWallet(Schema):
    items = ma.fields.List(ma.fields.Nested(Licence), required=True)
    holder_verified = ma.fields.Boolean(required=True, metadata={
        "description": "false until real-name verification (or, acting for an enterprise, a handler role)"})


def _for_dependent():
    return ma.fields.String(data_key="for", load_default=None, validate=ma.validate.Length(min=1, max=24), metadata={
        "description": "a family link id (GET /v1/me/dependents): that dependent's licences, for me as guardian"})


class DependentQuery(Schema):
    dependent = _for_dependent()


class LicencePresentationRequest(Schema):
    fields = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=64)), required=True,
                            validate=ma.validate.Length(min=1, max=32))
    purpose = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=128))
    dependent = _for_dependent()


class LicencePresentation(Schema):
    payload = ma.fields.String(required=True, metadata={"description": "ssb-licence+jwt, one-time, for the QR code"})
    expires_at = ma.fields.DateTime(required=True)
    presentation_id = ma.fields.String(required=True)
    fields = ma.fields.List(ma.fields.String(), required=True)


class LicenceAccessLogQuery(CursorPageQuery):
    pass


# --- staff ---

class LicenceVerifyRequest(Schema):
    payload = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4096))
    venue_id = ma.fields.String(load_default=None, allow_none=True,
                                validate=ma.validate.Regexp(r"^vn_[0-9A-Za-z_-]{1,21}$"),
                                metadata={"description": "The venue (`vn_...`) where the licence is checked: the "
                                                         "caller must be its staff; it is named in the holder's "
                                                         "access log. Without it, only the `staff` role may verify."})


class LicenceCommitment(Schema):
    alg = ma.fields.String(required=True)
    salt = ma.fields.String(required=True)
    value = ma.fields.String(required=True, metadata={
        "description": "base64url(sha256(salt + '.' + canonical JSON of fields)), as carried in the payload's cmt"})


class LicenceVerifierIssuer(Schema):
    name = ma.fields.String(required=True)
    region = ma.fields.Nested(LicenceRegion, required=True)


class LicenceVerification(Schema):
    presentation_id = ma.fields.String(required=True)
    valid = ma.fields.Boolean(required=True)
    licence_type = ma.fields.String(required=True)
    type_name_zh = ma.fields.String(required=True)
    type_name_en = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    valid_from = ma.fields.Date(required=True)
    valid_until = ma.fields.Date(allow_none=True)
    issuer = ma.fields.Nested(LicenceVerifierIssuer, required=True)
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(allow_none=True), required=True,
                            metadata={"description": "exactly the fields the holder chose to disclose"})
    purpose = ma.fields.String(allow_none=True)
    verified_at = ma.fields.DateTime(required=True)
    commitment = ma.fields.Nested(LicenceCommitment, required=True)
    shown_by_guardian = ma.fields.Boolean(metadata={"description": "true: a guardian showed a dependent's licence"})
    guardian = ma.fields.Dict(metadata={"description": "when shown_by_guardian: {name (masked), relation}"})


# OpenAPI examples: a licence shown with two fields disclosed, and verified by staff.
_PRESENTATION = ("eyJhbGciOiJFZERTQSIsImtpZCI6IjE3MzU2ODk2MDAiLCJ0eXAiOiJzc2ItbGljZW5jZStqd3QifQ."
                 "eyJsdCI6ImRyaXZpbmdfbGljZW5jZSIsImZsZCI6WyJob2xkZXJfbmFtZSIsInZlaGljbGVfY2xhc3MiXX0.c2lnbmF0dXJl")
PRESENTATION_REQUEST_EXAMPLE = {"fields": ["holder_name", "vehicle_class"], "purpose": "租车"}
PRESENTATION_EXAMPLE = {"payload": _PRESENTATION, "expires_at": "2026-01-01T00:03:00+00:00",
                        "presentation_id": "Ujrpwl4uBsAd2rmrAXuj0w", "fields": ["holder_name", "vehicle_class"]}
VERIFY_PRESENTATION_REQUEST_EXAMPLE = {"payload": _PRESENTATION}
VERIFICATION_EXAMPLE = {
    "presentation_id": "Ujrpwl4uBsAd2rmrAXuj0w", "valid": True, "licence_type": "driving_licence",
    "type_name_zh": "机动车驾驶证", "type_name_en": "Driving licence", "status": "valid",
    "valid_from": "2022-07-01", "valid_until": "2032-07-01",
    "issuer": {"name": "上海市公安局交通警察总队", "region": {"code": "310000", "name_zh": "上海市", "name_en": "Shanghai"}},
    "fields": {"holder_name": "李明", "vehicle_class": "C1"}, "purpose": "租车",
    "commitment": {"alg": "sha256", "salt": "63L_7D9ky43PPCExKwXKbQ",
                   "value": "SiFQu7omMMQV07FMIboMSJjQiPZRdsmiZ6nPaqa4AuE"},
    "shown_by_guardian": False, "verified_at": "2026-01-01T00:01:10+00:00"}

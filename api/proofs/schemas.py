import marshmallow as ma

from api.proofs.catalogue import PROOF_TYPES
from api.schemas import CursorPageQuery, Schema

PROOF_STATUSES = ["valid", "expired", "revoked", "not_yet_valid"]
REQUEST_STATUSES = ["pending", "issued", "refused", "withdrawn"]


# --- catalogue ---

class ProofChoiceSchema(Schema):
    value = ma.fields.String(required=True)
    label_zh = ma.fields.String(required=True)
    label_en = ma.fields.String(required=True)


class ProofFieldSpecSchema(Schema):
    name = ma.fields.String(required=True)
    label_zh = ma.fields.String(required=True)
    label_en = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "string | date | month | integer | enum"})
    required = ma.fields.Boolean(required=True)
    max_length = ma.fields.Integer()
    minimum = ma.fields.Integer()
    maximum = ma.fields.Integer()
    choices = ma.fields.List(ma.fields.Nested(ProofChoiceSchema))


class ProofTypeSchema(Schema):
    code = ma.fields.String(required=True)
    name_zh = ma.fields.String(required=True)
    name_en = ma.fields.String(required=True)
    instant = ma.fields.Boolean(required=True, metadata={
        "description": "issued at once from registry data where they allow; else decided by a department"})
    fields = ma.fields.List(ma.fields.Nested(ProofFieldSpecSchema), required=True)
    default_valid_days = ma.fields.Integer(required=True)
    max_valid_days = ma.fields.Integer(required=True)


class ProofTypeList(Schema):
    items = ma.fields.List(ma.fields.Nested(ProofTypeSchema), required=True)


# --- residents ---

class ProofRequestCreate(Schema):
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(PROOF_TYPES))
    purpose = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=128),
                                                        ma.validate.Regexp(r"\S", error="Must not be blank.")])


class ProofRequestSchema(Schema):
    id = ma.fields.Integer(required=True)
    type = ma.fields.String(required=True)
    type_name_zh = ma.fields.String(required=True)
    type_name_en = ma.fields.String(required=True)
    purpose = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(REQUEST_STATUSES))
    created_at = ma.fields.DateTime(required=True)
    decided_at = ma.fields.DateTime(allow_none=True)
    refusal_reason = ma.fields.String(allow_none=True)
    proof_id = ma.fields.Integer(allow_none=True, metadata={"description": "the issued proof, once issued"})


class ProofRequestPage(Schema):
    items = ma.fields.List(ma.fields.Nested(ProofRequestSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True)


class ProofHolderSchema(Schema):
    name = ma.fields.String(required=True, metadata={"description": "masked"})
    id_type = ma.fields.String(required=True)
    id_number = ma.fields.String(required=True, metadata={"description": "masked"})


class ProofFieldValueSchema(Schema):
    name = ma.fields.String(required=True)
    label_zh = ma.fields.String(required=True)
    label_en = ma.fields.String(required=True)
    value = ma.fields.Raw(required=True, metadata={"description": "as issued (string or integer)"})
    display_zh = ma.fields.String(required=True)
    display_en = ma.fields.String(required=True)


class ProofIssuerNameSchema(Schema):
    name = ma.fields.String(required=True)


class ProofSchema(Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True, metadata={"description": "printed on the document; the payload's jti"})
    type = ma.fields.String(required=True)
    type_name_zh = ma.fields.String(required=True)
    type_name_en = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(PROOF_STATUSES))
    request_id = ma.fields.Integer(required=True)
    holder = ma.fields.Nested(ProofHolderSchema, required=True)
    fields = ma.fields.List(ma.fields.Nested(ProofFieldValueSchema), required=True)
    issuer = ma.fields.Nested(ProofIssuerNameSchema, required=True)
    purpose = ma.fields.String(required=True)
    issued_at = ma.fields.DateTime(required=True)
    valid_from = ma.fields.DateTime(required=True)
    valid_until = ma.fields.DateTime(required=True)
    revoked_at = ma.fields.DateTime(allow_none=True)
    payload = ma.fields.String(metadata={"description": "compact JWS, typ ssb-proof+jwt (one proof only)"})


class ProofPage(Schema):
    items = ma.fields.List(ma.fields.Nested(ProofSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True)


# --- departments ---

class ProofQueueQuery(CursorPageQuery):
    status = ma.fields.String(load_default="pending", validate=ma.validate.OneOf(["pending", "issued", "refused"]))


class ProofQueueHolderSchema(Schema):
    name = ma.fields.String(required=True, metadata={"description": "full name, for the department's check"})
    id_type = ma.fields.String(required=True)
    id_number = ma.fields.String(required=True, metadata={
        "description": "full identity number, for the department's check (access-logged for the holder)"})


class ProofQueueItemSchema(Schema):
    id = ma.fields.Integer(required=True)
    type = ma.fields.String(required=True)
    type_name_zh = ma.fields.String(required=True)
    type_name_en = ma.fields.String(required=True)
    purpose = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    decided_at = ma.fields.DateTime(allow_none=True)
    refusal_reason = ma.fields.String(allow_none=True)
    holder = ma.fields.Nested(ProofQueueHolderSchema, required=True)


class ProofQueuePage(Schema):
    items = ma.fields.List(ma.fields.Nested(ProofQueueItemSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, metadata={"description": "pass as cursor for the next page"})


class ProofIssueRequest(Schema):
    fields = ma.fields.Dict(keys=ma.fields.String(), required=True,
                            metadata={"description": "the type's fields (GET /v1/proof-types)"})
    valid_days = ma.fields.Integer(load_default=None, allow_none=True,
                                   validate=ma.validate.Range(min=1, max=3650),
                                   metadata={"description": "default: the type's default_valid_days; at most "
                                                            "its max_valid_days"})


class ProofRefuseRequest(Schema):
    reason = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=500),
                                                       ma.validate.Regexp(r"\S", error="Must not be blank.")])


class IssuedProofSchema(Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    type_name_zh = ma.fields.String(required=True)
    type_name_en = ma.fields.String(required=True)
    request_id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    fields = ma.fields.Dict(required=True)
    issued_at = ma.fields.DateTime(required=True)
    valid_from = ma.fields.DateTime(required=True)
    valid_until = ma.fields.DateTime(required=True)


# --- verification ---

class ProofVerifyRequest(Schema):
    payload = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4096),
                               metadata={"description": "the QR's content: a compact JWS, typ ssb-proof+jwt"})


class ProofVerificationSchema(Schema):
    valid = ma.fields.Boolean(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(PROOF_STATUSES))
    number = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    type_name_zh = ma.fields.String(required=True)
    type_name_en = ma.fields.String(required=True)
    holder = ma.fields.Nested(ProofHolderSchema, required=True)
    fields = ma.fields.List(ma.fields.Nested(ProofFieldValueSchema), required=True)
    issuer = ma.fields.Nested(ProofIssuerNameSchema, required=True)
    issued_at = ma.fields.DateTime(required=True)
    valid_from = ma.fields.DateTime(required=True)
    valid_until = ma.fields.DateTime(required=True)
    revoked_at = ma.fields.DateTime(allow_none=True)
    checked_at = ma.fields.DateTime(required=True)


class ProofRevocationItem(Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True, metadata={"description": "the revoked proof's number (payload jti)"})
    revoked_at = ma.fields.DateTime(required=True)
    valid_until = ma.fields.DateTime(required=True, metadata={"description": "forget the entry after this"})


class ProofRevocationPage(Schema):
    items = ma.fields.List(ma.fields.Nested(ProofRevocationItem), required=True)
    next_cursor = ma.fields.String(allow_none=True, metadata={"description": "pass as cursor next time"})
    more = ma.fields.Boolean(required=True)

import marshmallow as ma

from api.enterprises.models import AUDIT_ACTIONS, ENTERPRISE_ROLES
from api.schemas import CursorPageQuery, Schema

MAX_ID = 2**63 - 1


class EnterpriseClaimRequest(Schema):
    credit_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32),
                                   metadata={"description": "unified social credit code (GB 32100)",
                                             "example": "91350100M000100Y43"})


class EnterpriseSchema(Schema):
    id = ma.fields.Integer(required=True)
    credit_code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    district = ma.fields.String(allow_none=True)
    industry = ma.fields.String(allow_none=True)
    size = ma.fields.String(allow_none=True)
    founded_on = ma.fields.Date(allow_none=True)
    my_role = ma.fields.String(allow_none=True, metadata={"description": "the caller's role in the enterprise"})
    created_at = ma.fields.DateTime(required=True)


class EnterpriseList(Schema):
    items = ma.fields.List(ma.fields.Nested(EnterpriseSchema), required=True)


class EnterpriseGrantRequest(Schema):
    phone = ma.fields.String(required=True, validate=ma.validate.Length(min=5, max=20),
                             metadata={"description": "the grantee's mobile number: a member's role changes at once; "
                                                      "any other number is invited"})
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ENTERPRISE_ROLES))


class EnterpriseMemberSchema(Schema):
    user_id = ma.fields.Integer(required=True)
    phone = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    name = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ENTERPRISE_ROLES))
    source = ma.fields.String(required=True, metadata={"description": "legal_rep (from the registry) or grant"})
    granted_by = ma.fields.Integer(allow_none=True)
    granted_at = ma.fields.DateTime(required=True)


class EnterpriseGrantResult(EnterpriseMemberSchema):
    """201 `member`: the member's role changed (member fields). 202 `invited`: an invitation,
    the same answer whoever holds the number (phone masked, role, expires_at)."""

    status = ma.fields.String(required=True, validate=ma.validate.OneOf(("member", "invited")))
    user_id = ma.fields.Integer(metadata={"description": "members only"})
    source = ma.fields.String(metadata={"description": "members only"})
    granted_at = ma.fields.DateTime(metadata={"description": "members only"})
    expires_at = ma.fields.DateTime(metadata={"description": "invitations only"})


class EnterpriseInvitationSchema(Schema):
    id = ma.fields.Integer(required=True)
    enterprise = ma.fields.Nested(EnterpriseSchema, required=True)
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ENTERPRISE_ROLES))
    invited_by = ma.fields.Nested(lambda: EnterpriseInviterSchema(), allow_none=True)
    expires_at = ma.fields.DateTime(required=True)


class EnterpriseInviterSchema(Schema):
    phone = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    name = ma.fields.String(allow_none=True, metadata={"description": "masked"})


class EnterpriseInvitationList(Schema):
    items = ma.fields.List(ma.fields.Nested(EnterpriseInvitationSchema), required=True)


class EnterpriseMemberList(Schema):
    items = ma.fields.List(ma.fields.Nested(EnterpriseMemberSchema), required=True)


class EnterprisePersonRef(Schema):
    user_id = ma.fields.Integer(required=True)
    phone = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    name = ma.fields.String(allow_none=True, metadata={"description": "masked"})


class EnterpriseAuditRecordSchema(Schema):
    id = ma.fields.Integer(required=True)
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(AUDIT_ACTIONS))
    actor = ma.fields.Nested(EnterprisePersonRef, allow_none=True, metadata={"description": "null: the registry"})
    subject = ma.fields.Nested(EnterprisePersonRef, allow_none=True)
    role = ma.fields.String(allow_none=True)
    previous_role = ma.fields.String(allow_none=True)
    details = ma.fields.Dict(required=True)
    created_at = ma.fields.DateTime(required=True)


class EnterpriseAuditPage(Schema):
    items = ma.fields.List(ma.fields.Nested(EnterpriseAuditRecordSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True)


class EnterpriseAuditQuery(CursorPageQuery):
    pass


class ActAsRequest(Schema):
    enterprise_id = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=MAX_ID))


class ActAsToken(Schema):
    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True)
    enterprise_id = ma.fields.Integer(required=True)
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ENTERPRISE_ROLES))


class EnterpriseActingSchema(Schema):
    enterprise_id = ma.fields.Integer(required=True)
    credit_code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ENTERPRISE_ROLES))
    user_id = ma.fields.Integer(required=True, metadata={"description": "the acting resident"})

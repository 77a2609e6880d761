import marshmallow as ma

from api.family.models import LINK_STATUSES, RELATIONS
from api.identity.identity_numbers import ID_TYPES
from api.schemas import CursorPageQuery, Schema

LINK_ID = {"description": "a family link's id (`fl_...`): the `for=` of codes and licences"}


class DependentRequest(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    id_type = ma.fields.String(required=True, validate=ma.validate.OneOf(ID_TYPES))
    id_number = ma.fields.String(required=True, validate=ma.validate.Length(min=5, max=32))
    relation = ma.fields.String(required=True, validate=ma.validate.OneOf(RELATIONS), metadata={
        "description": "minor_child: the registry names you guardian, linked at once; "
                       "elder (60 or over): pending until the elder agrees"})


class LinkSchema(Schema):
    id = ma.fields.String(required=True, metadata=LINK_ID)
    relation = ma.fields.String(required=True, metadata={"description": " | ".join(RELATIONS)})
    status = ma.fields.String(required=True, metadata={"description": " | ".join(LINK_STATUSES)})
    ended_reason = ma.fields.String(allow_none=True, metadata={
        "description": "guardian | dependent | refused | came_of_age"})
    approved_via = ma.fields.String(allow_none=True, metadata={"description": "registry | app | clerk"})
    created_at = ma.fields.DateTime(required=True)
    approved_at = ma.fields.DateTime(allow_none=True)
    ended_at = ma.fields.DateTime(allow_none=True)
    adult_on = ma.fields.Date(allow_none=True, metadata={"description": "a minor's 18th birthday: the link ends"})


class DependentSummary(Schema):
    name = ma.fields.String(required=True, metadata={"description": "masked"})
    id_type = ma.fields.String(required=True)
    id_number = ma.fields.String(required=True, metadata={"description": "masked"})
    has_account = ma.fields.Boolean(required=True)


class GuardianSummary(Schema):
    name = ma.fields.String(allow_none=True, metadata={"description": "masked"})
    phone = ma.fields.String(required=True, metadata={"description": "masked"})


class DependentLink(LinkSchema):
    dependent = ma.fields.Nested(DependentSummary, required=True)


class GuardianLink(LinkSchema):
    guardian = ma.fields.Nested(GuardianSummary, required=True)


class ConsentRecorded(GuardianLink):
    dependent = ma.fields.Nested(DependentSummary, required=True)


class DependentPage(Schema):
    items = ma.fields.List(ma.fields.Nested(DependentLink), required=True)
    next_cursor = ma.fields.String(allow_none=True)


class GuardianPage(Schema):
    items = ma.fields.List(ma.fields.Nested(GuardianLink), required=True)
    next_cursor = ma.fields.String(allow_none=True)


class ActivityItem(Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={
        "description": "code_scan | licence_view | guardian_act | family_consent"})
    action = ma.fields.String(allow_none=True, metadata={
        "description": "guardian_act: code_shown | wallet_opened | licence_opened | licence_presented; "
                       "family_consent: consent_recorded"})
    scene = ma.fields.String(allow_none=True)
    accessor = ma.fields.Dict(required=True, metadata={
        "description": "who looked (venue, staff masked) and `guardian` (masked) who acted"})
    fields = ma.fields.List(ma.fields.String(), required=True)
    purpose = ma.fields.String(allow_none=True)
    subject_ref = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime(required=True)


class ActivityPage(Schema):
    items = ma.fields.List(ma.fields.Nested(ActivityItem), required=True)
    next_cursor = ma.fields.String(allow_none=True)


class ElderConsentRequest(Schema):
    id_type = ma.fields.String(required=True, validate=ma.validate.OneOf(ID_TYPES))
    id_number = ma.fields.String(required=True, validate=ma.validate.Length(min=5, max=32),
                                 metadata={"description": "the elder's, from the document the clerk checked"})
    link_id = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=24), metadata=LINK_ID)
    guardian_phone = ma.fields.String(load_default=None, validate=ma.validate.Length(min=5, max=20),
                                      metadata={"description": "instead of link_id: the requesting guardian's phone"})
    document_checked = ma.fields.Boolean(required=True, validate=ma.validate.Equal(True), metadata={
        "description": "must be true: the clerk checked the elder's identity document in person"})

    @ma.validates_schema
    def _one_way_to_name_the_link(self, data, **kwargs):
        if (data.get("link_id") is None) == (data.get("guardian_phone") is None):
            raise ma.ValidationError("give link_id or guardian_phone, not both", "link_id")


class ActivityQuery(CursorPageQuery):
    pass

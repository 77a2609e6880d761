"""Request and response shapes of 好差评."""
from __future__ import annotations

import marshmallow as ma

from api.ratings.catalogue import MAX_TAGS, RATEABLE_KINDS
from api.ratings.models import CASE_STATUSES, SUBJECT_TYPES
from api.schemas import CursorPageQuery, Schema

MAX_ID = 2**63 - 1
COMMENT_MAX = 500
PUBLIC_ID = r"^rt_[0-9a-f]{16}$"


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


# --------------------------------------------------------------------------- requests


class RatingCreate(Schema):
    access_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_ID),
                                  metadata={"description": "the `id` of an entry of GET /v1/me/access-log"})
    stars = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=5))
    tags = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=32)), load_default=list,
                          validate=ma.validate.Length(max=MAX_TAGS),
                          metadata={"description": "codes from GET /v1/ratings/tags for the entry's kind"})
    comment = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=COMMENT_MAX),
                               metadata={"description": "public once personal data is masked"})


class TagQuery(Schema):
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(RATEABLE_KINDS))


class PublicListQuery(Schema):
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Regexp(PUBLIC_ID),
                              metadata={"description": "`next_cursor` of the previous page"})
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


class ReplyRequest(Schema):
    text = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=COMMENT_MAX), _not_blank])


class ResolveRequest(Schema):
    note = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=1000), _not_blank],
                            metadata={"description": "what was done; sent to the rater"})


class FeedbackRequest(Schema):
    satisfied = ma.fields.Boolean(required=True)


class CaseListQuery(CursorPageQuery):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(CASE_STATUSES))
    overdue = ma.fields.Boolean(load_default=None, allow_none=True,
                                metadata={"description": "open past the due day, or resolved after it"})


# --------------------------------------------------------------------------- responses


class TagSchema(Schema):
    code = ma.fields.String(required=True)
    zh = ma.fields.String(required=True)
    en = ma.fields.String(required=True)
    positive = ma.fields.Boolean(required=True)


class KindTagsSchema(Schema):
    kind = ma.fields.String(required=True)
    tags = ma.fields.List(ma.fields.Nested(TagSchema), required=True)


class TagCatalogueSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(KindTagsSchema), required=True)


class ReplySchema(Schema):
    text = ma.fields.String(required=True)
    replied_on = ma.fields.Date(required=True)


class PublicRatingSchema(Schema):
    id = ma.fields.String(required=True, metadata={"description": "random per rating; links nothing"})
    stars = ma.fields.Integer(required=True)
    tags = ma.fields.List(ma.fields.String(), required=True)
    comment = ma.fields.String(allow_none=True, required=True, metadata={"description": "personal data masked"})
    service = ma.fields.String(required=True, metadata={"description": "the access-log kind that was rated"})
    rated_on = ma.fields.Date(required=True, metadata={"description": "the day (Asia/Shanghai), not the time"})
    reply = ma.fields.Nested(ReplySchema, allow_none=True, required=True)


class PublicRatingPage(Schema):
    items = ma.fields.List(ma.fields.Nested(PublicRatingSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)


class SummarySchema(Schema):
    count = ma.fields.Integer(required=True)
    average = ma.fields.Float(allow_none=True, required=True, metadata={"description": "null before any rating"})
    distribution = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True,
                                  metadata={"description": 'ratings per number of stars, "1" to "5"'})
    replied = ma.fields.Float(required=True, metadata={"description": "share of ratings replied to, 0..1"})
    replied_count = ma.fields.Integer(required=True)


class SubjectSchema(Schema):
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(SUBJECT_TYPES))
    id = ma.fields.String(required=True)
    name = ma.fields.String(allow_none=True, required=True)


class CaseSummarySchema(Schema):
    id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    opened_at = ma.fields.DateTime(required=True)
    due_on = ma.fields.Date(required=True, metadata={"description": "third working day after opening"})
    overdue = ma.fields.Boolean(required=True)
    resolved_at = ma.fields.DateTime(allow_none=True, required=True)
    note = ma.fields.String(allow_none=True, required=True)
    satisfied = ma.fields.Boolean(allow_none=True, required=True, metadata={"description": "the rater's answer"})
    answered_at = ma.fields.DateTime(allow_none=True, required=True)


class OwnRatingSchema(PublicRatingSchema):
    access_id = ma.fields.Integer(allow_none=True, required=True)
    created_at = ma.fields.DateTime(required=True)
    subject = ma.fields.Nested(SubjectSchema, required=True)
    case = ma.fields.Nested(CaseSummarySchema, allow_none=True, required=True)


class OwnRatingPage(Schema):
    items = ma.fields.List(ma.fields.Nested(OwnRatingSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)


class CaseSchema(CaseSummarySchema):
    subject = ma.fields.Nested(SubjectSchema, required=True)
    rating = ma.fields.Nested(PublicRatingSchema, required=True)


class CasePage(Schema):
    items = ma.fields.List(ma.fields.Nested(CaseSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)

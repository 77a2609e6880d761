import marshmallow as ma

from api.notifications.models import CATEGORIES, PLATFORMS, POLICY_TOPICS, SUBJECTS, TOPICS
from api.schemas import CursorPageQuery, Schema

HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class StrictBoolean(ma.fields.Boolean):
    """JSON true/false only (marshmallow's Boolean also takes 1, "yes", ...)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


# -- inbox ------------------------------------------------------------------------------------


class TranslationSchema(Schema):
    title = ma.fields.String(required=True)
    body = ma.fields.String(required=True)


class InboxItemSchema(Schema):
    id = ma.fields.Integer(required=True)
    category = ma.fields.String(required=True, validate=ma.validate.OneOf(CATEGORIES))
    title = ma.fields.String(required=True, metadata={"description": "in `lang`"})
    body = ma.fields.String(required=True, metadata={"description": "in `lang`"})
    lang = ma.fields.String(required=True, metadata={
        "description": "`en` when Accept-Language prefers English and the message has English text, else `zh-CN`"})
    translations = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(TranslationSchema), required=True,
                                  metadata={"description": "every language the author gave: `zh-CN` always, `en` "
                                                           "when given"})
    deep_link = ma.fields.String(allow_none=True)
    urgent = ma.fields.Boolean(required=True)
    created_at = ma.fields.DateTime(required=True)
    read = ma.fields.Boolean(required=True)
    read_at = ma.fields.DateTime(allow_none=True)


class InboxPage(Schema):
    items = ma.fields.List(ma.fields.Nested(InboxItemSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, metadata={"description": "pass as `cursor` for older messages"})


class UnreadCountSchema(Schema):
    unread = ma.fields.Integer(required=True)


class ReadAllSchema(Schema):
    marked = ma.fields.Integer(required=True)
    unread = ma.fields.Integer(required=True)


# -- devices ----------------------------------------------------------------------------------


class DeviceRequest(Schema):
    platform = ma.fields.String(required=True, validate=ma.validate.OneOf(PLATFORMS))
    token = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9:_\-.]{8,512}$"),
                             metadata={"description": "the provider's device token"})


class DeviceSchema(Schema):
    id = ma.fields.Integer(required=True)
    platform = ma.fields.String(required=True)
    token_suffix = ma.fields.String(required=True, metadata={"description": "last 6 characters of the token"})
    active = ma.fields.Boolean(required=True)
    created_at = ma.fields.DateTime(required=True)


class DeviceList(Schema):
    items = ma.fields.List(ma.fields.Nested(DeviceSchema), required=True)


# -- preferences ------------------------------------------------------------------------------


class QuietHoursSchema(Schema):
    start = ma.fields.String(required=True, validate=ma.validate.Regexp(HHMM),
                             metadata={"description": "HH:MM, Asia/Shanghai"})
    end = ma.fields.String(required=True, validate=ma.validate.Regexp(HHMM),
                           metadata={"description": "HH:MM, Asia/Shanghai; may be earlier than start (overnight)"})


class PreferencesSchema(Schema):
    topics = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Boolean(), required=True,
                            metadata={"description": f"every topic, on or off: {', '.join(TOPICS)}"})
    quiet_hours = ma.fields.Nested(QuietHoursSchema, allow_none=True, required=True)
    daily_cap = ma.fields.Integer(required=True, metadata={"description": "non-urgent pushes per local day"})
    language = ma.fields.String(required=True)
    timezone = ma.fields.String(required=True)


class PreferencesUpdate(Schema):
    topics = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.OneOf(TOPICS)),
                            values=StrictBoolean(required=True),
                            metadata={"description": "only the topics to change; `security` cannot be turned off"})
    quiet_hours = ma.fields.Nested(QuietHoursSchema, allow_none=True,
                                   metadata={"description": "null removes quiet hours"})
    daily_cap = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=100))
    language = ma.fields.String(validate=ma.validate.OneOf(["zh-CN", "en"]),
                                metadata={"description": "language of push notifications"})

    @ma.validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("give at least one of topics, quiet_hours, daily_cap, language", "_schema")


# -- policies ---------------------------------------------------------------------------------


class PolicyRequest(Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=5000))
    title_en = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    body_en = ma.fields.String(validate=ma.validate.Length(min=1, max=5000))
    topic = ma.fields.String(required=True, validate=ma.validate.OneOf(POLICY_TOPICS))
    subject = ma.fields.String(load_default="person", validate=ma.validate.OneOf(SUBJECTS))
    rule = ma.fields.Raw(required=True, metadata={
        "description": "JsonLogic subset (and, or, !, ==, !=, <, <=, >, >=, in, between, var) over age, district, "
                       "hukou, veteran, disabled, living_alone (person) or district, industry, size, "
                       "years_since_founding (enterprise)",
        "example": {"and": [{">=": [{"var": "age"}, 60]}, {"==": [{"var": "district"}, "黄浦区"]},
                            {"==": [{"var": "hukou"}, True]}]}})
    deep_link = ma.fields.String(validate=ma.validate.Length(min=1, max=512))


class PolicySchema(Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    title_en = ma.fields.String(allow_none=True)
    body_en = ma.fields.String(allow_none=True)
    topic = ma.fields.String(required=True)
    subject = ma.fields.String(required=True)
    rule = ma.fields.Raw(required=True)
    deep_link = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime(required=True)


class PolicyQuery(CursorPageQuery):
    topic = ma.fields.String(load_default=None, validate=ma.validate.OneOf(POLICY_TOPICS))


class PolicyPage(Schema):
    items = ma.fields.List(ma.fields.Nested(PolicySchema), required=True)
    next_cursor = ma.fields.String(allow_none=True)


class ConditionSchema(Schema):
    attribute = ma.fields.String(required=True)
    op = ma.fields.String(required=True)
    value = ma.fields.Raw(required=True)
    actual = ma.fields.Raw(allow_none=True)
    held = ma.fields.Boolean(required=True)
    negated = ma.fields.Boolean(required=True, metadata={"description": "under a `!`: holding counted against"})


class PolicyMatchSchema(Schema):
    policy = ma.fields.Nested(PolicySchema, required=True)
    why = ma.fields.List(ma.fields.Nested(ConditionSchema), required=True,
                         metadata={"description": "the conditions that decided eligibility"})


class PoliciesForMeSchema(Schema):
    verified = ma.fields.Boolean(required=True, metadata={"description": "false: no real name, so no profile"})
    items = ma.fields.List(ma.fields.Nested(PolicyMatchSchema), required=True)


# -- campaigns --------------------------------------------------------------------------------


class CampaignStartedSchema(Schema):
    campaign_id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    created = ma.fields.Boolean(required=True, metadata={
        "description": "false: the policy's unfinished run, started earlier; true: a new run"})


class CampaignDetailSchema(Schema):
    inbox_written = ma.fields.Integer(required=True)
    pushed = ma.fields.Integer(required=True)
    skipped_by_preference = ma.fields.Integer(required=True)
    skipped_daily_cap = ma.fields.Integer(required=True)
    skipped_no_device = ma.fields.Integer(required=True)
    skipped_dead_token = ma.fields.Integer(required=True)
    deferred_quiet_hours = ma.fields.Integer(required=True)
    waiting_quiet_hours = ma.fields.Integer(required=True)
    pending = ma.fields.Integer(required=True)
    failed = ma.fields.Integer(required=True)
    chunks = ma.fields.Integer(required=True)
    chunks_done = ma.fields.Integer(required=True)


class CampaignStatusSchema(Schema):
    id = ma.fields.Integer(required=True)
    policy_id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={
        "description": "queued | running (inbox fan-out) | sending (pushes due) | done"})
    matched = ma.fields.Integer(required=True, metadata={"description": "eligible residents = inbox rows written"})
    delivered = ma.fields.Integer(required=True, metadata={"description": "pushes a provider accepted"})
    skipped = ma.fields.Integer(required=True, metadata={"description": "pushes not sent: preference, cap, no device"})
    failed = ma.fields.Integer(required=True)
    detail = ma.fields.Nested(CampaignDetailSchema, required=True)
    started_at = ma.fields.DateTime(required=True)
    fanned_out_at = ma.fields.DateTime(allow_none=True)


# OpenAPI examples: the inbox with one policy message (政策找人).
INBOX_EXAMPLE = {"items": [{
    "id": 1, "category": "policy", "title": "黄浦区成年居民免费健康体检",
    "body": "黄浦区户籍或常住的成年居民每年可在社区卫生服务中心免费体检一次，请在随申办预约。", "lang": "zh-CN",
    "translations": {"zh-CN": {"title": "黄浦区成年居民免费健康体检",
                               "body": "黄浦区户籍或常住的成年居民每年可在社区卫生服务中心免费体检一次，请在随申办预约。"},
                     "en": {"title": "Free health check for adults in Huangpu",
                            "body": "Adults living in Huangpu get one free health check a year at their community "
                                    "health centre; book it in the app."}},
    "deep_link": "ssb://policies/1", "urgent": False, "created_at": "2026-01-01T00:00:00+00:00", "read": False,
    "read_at": None}], "next_cursor": None}
UNREAD_EXAMPLE = {"unread": 1}

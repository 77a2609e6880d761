"""Inbox, push devices, notification preferences, the policy catalogue and campaigns.
"""
import re

from flask import g, request
from flask.views import MethodView

from api.errors import prefers_chinese
from api.extensions import Blueprint, now
from api.notifications import devices, inbox, policies, preferences
from api.notifications.schemas import (
    INBOX_EXAMPLE,
    UNREAD_EXAMPLE,
    CampaignStartedSchema,
    CampaignStatusSchema,
    DeviceList,
    DeviceRequest,
    DeviceSchema,
    InboxItemSchema,
    InboxPage,
    PoliciesForMeSchema,
    PolicyPage,
    PolicyQuery,
    PolicyRequest,
    PolicySchema,
    PreferencesSchema,
    PreferencesUpdate,
    ReadAllSchema,
    UnreadCountSchema,
)
from api.responses import json_response
from api.schemas import CursorPageQuery

ID = "int(max=9007199254740991)"   # larger ids cannot exist; they 404 instead of overflowing SQLite

inbox_blp = Blueprint("inbox", __name__, url_prefix="/v1/inbox", description="My notifications inbox")
devices_blp = Blueprint("devices", __name__, url_prefix="/v1/devices", description="Push notification devices")
preferences_blp = Blueprint("notification_preferences", __name__, url_prefix="/v1/me",
                            description="Notification preferences")
policies_blp = Blueprint("policies", __name__, url_prefix="/v1/policies", description="Policies (政策) for residents")
admin_blp = Blueprint("policies_admin", __name__, url_prefix="/v1/admin",
                      description="Operators: policies and their campaigns (政策找人)")

blueprints = [inbox_blp, devices_blp, preferences_blp, policies_blp, admin_blp]


def _english() -> bool:
    header = request.headers.get("Accept-Language")
    return bool(header) and not prefers_chinese(header) and bool(re.search(r"(^|[\s,])(en|\*)", header.lower()))


# -- inbox ------------------------------------------------------------------------------------


@inbox_blp.route("")
class Inbox(MethodView):
    @inbox_blp.auth()
    @inbox_blp.arguments(CursorPageQuery, location="query")
    @inbox_blp.response(200, InboxPage, example=INBOX_EXAMPLE)
    def get(self, query):
        """My messages, newest first (cursor: the `next_cursor` of the previous page)

        The signed-in resident's own inbox: policies that found them, licence reminders,
        mini-program subscription messages, security notices. `title`/`body` follow
        Accept-Language (English where the author gave it); `translations` holds every language."""
        before = int(query["cursor"]) if query["cursor"] else None
        return json_response(inbox.list_inbox(g.principal.user_id, before_id=before, limit=query["limit"],
                                              english=_english()))


@inbox_blp.route("/unread-count")
class UnreadCount(MethodView):
    @inbox_blp.auth()
    @inbox_blp.response(200, UnreadCountSchema, example=UNREAD_EXAMPLE)
    def get(self):
        """How many of my messages are unread

        The signed-in resident's badge count; cheap enough to poll."""
        return json_response(inbox.unread_count(g.principal.user_id))


@inbox_blp.route(f"/<{ID}:message_id>")
class InboxMessage(MethodView):
    @inbox_blp.auth()
    @inbox_blp.response(200, InboxItemSchema)
    @inbox_blp.errors("INBOX_MESSAGE_NOT_FOUND")
    def get(self, message_id):
        """One of my messages

        Its recipient only (another's message is `INBOX_MESSAGE_NOT_FOUND`); reading it does not
        mark it read."""
        return inbox.get_message(g.principal.user_id, message_id, english=_english())


@inbox_blp.route(f"/<{ID}:message_id>/read")
class ReadMessage(MethodView):
    @inbox_blp.auth()
    @inbox_blp.response(204)
    @inbox_blp.errors("INBOX_MESSAGE_NOT_FOUND")
    def post(self, message_id):
        """Mark a message read (idempotent)

        Its recipient only; reading it again keeps the first read time."""
        inbox.mark_read(g.principal.user_id, message_id, now=now())


@inbox_blp.route("/read-all")
class ReadAll(MethodView):
    @inbox_blp.auth()
    @inbox_blp.response(200, ReadAllSchema)
    def post(self):
        """Mark every message read

        The signed-in resident's whole inbox; answers how many changed and what is left unread."""
        return inbox.mark_all_read(g.principal.user_id, now=now())


# -- devices ----------------------------------------------------------------------------------


@devices_blp.route("")
class Devices(MethodView):
    @devices_blp.auth()
    @devices_blp.response(200, DeviceList)
    def get(self):
        """My devices that receive pushes (signed-in sessions only)

        The signed-in resident's registered push tokens (masked) whose sessions are still active."""
        return devices.list_devices(g.principal)

    @devices_blp.auth()
    @devices_blp.arguments(DeviceRequest)
    @devices_blp.response(201, DeviceSchema)
    def post(self, body):
        """Register this session's push token; it stops receiving when the session signs out

        The signed-in app, for its own session: `platform` `apns`, `fcm` or `hms` and the token
        the platform gave it. Registering again on the session replaces the token."""
        return devices.register_device(g.principal, platform=body["platform"], token=body["token"], now=now())


@devices_blp.route(f"/<{ID}:device_id>")
class DeviceItem(MethodView):
    @devices_blp.auth()
    @devices_blp.response(204)
    @devices_blp.errors("DEVICE_NOT_FOUND")
    def delete(self, device_id):
        """Stop pushes to a device

        The device's owner only; the inbox still receives every message."""
        devices.delete_device(g.principal, device_id, now=now())


# -- preferences ------------------------------------------------------------------------------


@preferences_blp.route("/preferences")
class Preferences(MethodView):
    @preferences_blp.auth()
    @preferences_blp.response(200, PreferencesSchema)
    def get(self):
        """My notification preferences

        The signed-in resident's topics, quiet hours (Shanghai time), daily push cap and language."""
        return preferences.get_preferences(g.principal.user_id)

    @preferences_blp.auth()
    @preferences_blp.arguments(PreferencesUpdate)
    @preferences_blp.response(200, PreferencesSchema)
    @preferences_blp.errors("SECURITY_TOPIC_REQUIRED", "QUIET_HOURS_INVALID")
    def put(self, body):
        """Change topics, quiet hours (non-urgent pushes wait until they end), the daily push cap

        The signed-in resident, for themselves; fields left out stay as they are. Security
        notices cannot be turned off. Muted topics still reach the inbox, only without a push."""
        return preferences.update_preferences(g.principal.user_id, changes=body, now=now())


# -- policies ---------------------------------------------------------------------------------


@policies_blp.route("")
class Policies(MethodView):
    @policies_blp.arguments(PolicyQuery, location="query")
    @policies_blp.response(200, PolicyPage)
    def get(self, query):
        """The policy catalogue, newest first

        Anyone, no sign-in; `topic` filters; keyset pages via `cursor`."""
        before = int(query["cursor"]) if query["cursor"] else None
        return policies.list_policies(before_id=before, limit=query["limit"], topic=query["topic"])


@policies_blp.route("/for-me")
class PoliciesForMe(MethodView):
    @policies_blp.auth()
    @policies_blp.response(200, PoliciesForMeSchema)
    def get(self):
        """Policies I am eligible for by my registry profile, and why

        The signed-in resident: their registry profile (age, district, hukou, ...) is matched
        against every policy's rule; `why` lists the conditions that held. A resident whose real
        name is not verified has no profile (`verified: false`, no items)."""
        return policies.policies_for_me(g.principal.user_id, now=now())


@policies_blp.route(f"/<{ID}:policy_id>")
class PolicyItem(MethodView):
    @policies_blp.response(200, PolicySchema)
    @policies_blp.errors("POLICY_NOT_FOUND")
    def get(self, policy_id):
        """One policy

        Anyone, no sign-in: its text (zh-CN, en), topic and eligibility rule."""
        return policies.get_policy(policy_id)


# -- admin ------------------------------------------------------------------------------------


@admin_blp.route("/policies")
class AdminPolicies(MethodView):
    @admin_blp.auth(roles=("operator",))
    @admin_blp.arguments(PolicyRequest)
    @admin_blp.response(201, PolicySchema)
    @admin_blp.errors("RULE_INVALID")
    def post(self, body):
        """Publish a policy with its eligibility rule (422 RULE_INVALID names the faulty part)

        Operators only. The rule is JsonLogic over registry attributes (see the `rule` field);
        it is checked here, and later compiled to SQL for campaigns."""
        return policies.create_policy(g.principal, now=now(), chinese=prefers_chinese(
            request.headers.get("Accept-Language")), **body)


@admin_blp.route(f"/policies/<{ID}:policy_id>/campaigns")
class AdminCampaigns(MethodView):
    @admin_blp.auth(roles=("operator",))
    @admin_blp.response(202, CampaignStartedSchema)
    @admin_blp.errors("POLICY_NOT_FOUND", "CAMPAIGN_SUBJECT_UNSUPPORTED")
    def post(self, policy_id):
        """Find every eligible resident: an inbox message each, exactly once, and pushes

        Operators only. While the policy's latest run is unfinished, starting again answers that
        run (`created: false`); once it has fanned out, a new run reaches only the residents who
        became eligible since: nobody gets two messages about one policy. The fan-out runs in
        background jobs; follow it with `GET /v1/admin/campaigns/{id}`."""
        return policies.start_campaign(g.principal, policy_id, now=now())


@admin_blp.route(f"/campaigns/<{ID}:campaign_id>")
class AdminCampaign(MethodView):
    @admin_blp.auth(roles=("operator",))
    @admin_blp.response(200, CampaignStatusSchema)
    @admin_blp.errors("CAMPAIGN_NOT_FOUND")
    def get(self, campaign_id):
        """A campaign's progress; `status` ends as `done`

        Operators only: residents matched, pushes delivered, skipped (by preference, cap, no
        device) and failed."""
        return policies.campaign_status(campaign_id, now=now())

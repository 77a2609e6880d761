"""Inbox, push devices, notification preferences, the policy catalogue and campaigns.
"""
import re

from flask import g, request
from flask.views import MethodView

from api.errors import prefers_chinese
from api.extensions import Blueprint, now
from api.notifications import devices, inbox, policies, preferences
from api.notifications.schemas import (
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
    @inbox_blp.response(200, InboxPage)
    @inbox_blp.errors(422)
    def get(self, query):
        """My messages, newest first (cursor: the `next_cursor` of the previous page)"""
        before = int(query["cursor"]) if query["cursor"] else None
        return json_response(inbox.list_inbox(g.principal.user_id, before_id=before, limit=query["limit"],
                                              english=_english(), as_json=True))


@inbox_blp.route("/unread-count")
class UnreadCount(MethodView):
    @inbox_blp.auth()
    @inbox_blp.response(200, UnreadCountSchema)
    def get(self):
        """How many of my messages are unread"""
        return json_response(inbox.unread_count(g.principal.user_id))


@inbox_blp.route(f"/<{ID}:message_id>")
class InboxMessage(MethodView):
    @inbox_blp.auth()
    @inbox_blp.response(200, InboxItemSchema)
    @inbox_blp.errors(404)
    def get(self, message_id):
        """One of my messages"""
        return inbox.get_message(g.principal.user_id, message_id, english=_english())


@inbox_blp.route(f"/<{ID}:message_id>/read")
class ReadMessage(MethodView):
    @inbox_blp.auth()
    @inbox_blp.response(204)
    @inbox_blp.errors(404)
    def post(self, message_id):
        """Mark a message read (idempotent)"""
        inbox.mark_read(g.principal.user_id, message_id, now=now())


@inbox_blp.route("/read-all")
class ReadAll(MethodView):
    @inbox_blp.auth()
    @inbox_blp.response(200, ReadAllSchema)
    def post(self):
        """Mark every message read"""
        return inbox.mark_all_read(g.principal.user_id, now=now())


# -- devices ----------------------------------------------------------------------------------


@devices_blp.route("")
class Devices(MethodView):
    @devices_blp.auth()
    @devices_blp.response(200, DeviceList)
    def get(self):
        """My devices that receive pushes (signed-in sessions only)"""
        return devices.list_devices(g.principal)

    @devices_blp.auth()
    @devices_blp.arguments(DeviceRequest)
    @devices_blp.response(201, DeviceSchema)
    @devices_blp.errors(422)
    def post(self, body):
        """Register this session's push token; it stops receiving when the session signs out"""
        return devices.register_device(g.principal, platform=body["platform"], token=body["token"], now=now())


@devices_blp.route(f"/<{ID}:device_id>")
class DeviceItem(MethodView):
    @devices_blp.auth()
    @devices_blp.response(204)
    @devices_blp.errors(404)
    def delete(self, device_id):
        """Stop pushes to a device"""
        devices.delete_device(g.principal, device_id, now=now())


# -- preferences ------------------------------------------------------------------------------


@preferences_blp.route("/preferences")
class Preferences(MethodView):
    @preferences_blp.auth()
    @preferences_blp.response(200, PreferencesSchema)
    def get(self):
        """My notification preferences"""
        return preferences.get_preferences(g.principal.user_id)

    @preferences_blp.auth()
    @preferences_blp.arguments(PreferencesUpdate)
    @preferences_blp.response(200, PreferencesSchema)
    @preferences_blp.errors(422)
    def put(self, body):
        """Change topics, quiet hours (non-urgent pushes wait until they end), the daily push cap"""
        return preferences.update_preferences(g.principal.user_id, changes=body, now=now())


# -- policies ---------------------------------------------------------------------------------


@policies_blp.route("")
class Policies(MethodView):
    @policies_blp.arguments(PolicyQuery, location="query")
    @policies_blp.response(200, PolicyPage)
    @policies_blp.errors(422)
    def get(self, query):
        """The policy catalogue, newest first"""
        before = int(query["cursor"]) if query["cursor"] else None
        return policies.list_policies(before_id=before, limit=query["limit"], topic=query["topic"])


@policies_blp.route("/for-me")
class PoliciesForMe(MethodView):
    @policies_blp.auth()
    @policies_blp.response(200, PoliciesForMeSchema)
    def get(self):
        """Policies I am eligible for by my registry profile, and why"""
        return policies.policies_for_me(g.principal.user_id, now=now())


@policies_blp.route(f"/<{ID}:policy_id>")
class PolicyItem(MethodView):
    @policies_blp.response(200, PolicySchema)
    @policies_blp.errors(404)
    def get(self, policy_id):
        """One policy"""
        return policies.get_policy(policy_id)


# -- admin ------------------------------------------------------------------------------------


@admin_blp.route("/policies")
class AdminPolicies(MethodView):
    @admin_blp.auth(roles=("operator",))
    @admin_blp.arguments(PolicyRequest)
    @admin_blp.response(201, PolicySchema)
    @admin_blp.errors(422)
    def post(self, body):
        """Publish a policy with its eligibility rule (422 RULE_INVALID names the faulty part)"""
        return policies.create_policy(g.principal, now=now(), chinese=prefers_chinese(
            request.headers.get("Accept-Language")), **body)


@admin_blp.route(f"/policies/<{ID}:policy_id>/campaigns")
class AdminCampaigns(MethodView):
    @admin_blp.auth(roles=("operator",))
    @admin_blp.response(202, CampaignStartedSchema)
    @admin_blp.errors(404, 409)
    def post(self, policy_id):
        """Find every eligible resident: an inbox message each, exactly once, and pushes"""
        return policies.start_campaign(g.principal, policy_id, now=now())


@admin_blp.route(f"/campaigns/<{ID}:campaign_id>")
class AdminCampaign(MethodView):
    @admin_blp.auth(roles=("operator",))
    @admin_blp.response(200, CampaignStatusSchema)
    @admin_blp.errors(404)
    def get(self, campaign_id):
        """A campaign's progress; `status` ends as `done`"""
        return policies.campaign_status(campaign_id, now=now())

"""Subscription messages (WeChat's subscribeMessage.send): a mini-program writes into the
resident's inbox, with `scope.subscribe_message` consent; the push relay wakes after the commit."""
from __future__ import annotations

from api.db import from_timestamp
from api.extensions import db
from api.miniprograms.models import MiniProgram, MiniProgramMessage
from api.notifications.inbox import deliver_to_user
from api.unit_of_work import commit
from miniprogram_adapter import wechat_errors as wx
from miniprogram_adapter.apps import resolve_access_token
from miniprogram_adapter.common import active_user, limit_release, resolve_openid
from miniprogram_adapter.consents import require_consent
from miniprogram_adapter.wechat_errors import WeChatError

MAX_DATA_KEYS = 20


def send_subscribe_message(*, access_token: str | None, touser: str | None, template_id: str | None,
                           data, page: str | None, now: int) -> dict:
    """POST /cgi-bin/message/subscribe/send: into the resident's inbox, with `scope.subscribe_message`."""
    app = resolve_access_token(access_token, now=now, api="subscribe_send")
    user_id = resolve_openid(app, touser)
    _check_message(template_id, data, page)
    require_consent(app, user_id, "scope.subscribe_message", errcode=wx.USER_REFUSED_MESSAGE)
    limit_release(app.appid, user_id)
    active_user(user_id)
    message = MiniProgramMessage(appid=app.appid, user_id=user_id, template_id=template_id,
                                 data={k: {"value": str(v["value"])[:200]} for k, v in data.items()},
                                 page=page, status="stored", created_at=from_timestamp(now))
    db.session.add(message)
    db.session.flush()
    ref = deliver_to_inbox(message, app=app, now=now)
    message.status, message.inbox_ref = "delivered", ref[:64]
    commit()
    return {"errcode": 0, "errmsg": "ok", "msgid": message.id}


def _valid_entry(key, value) -> bool:
    return (isinstance(key, str) and 0 < len(key) <= 32 and "\x00" not in key and isinstance(value, dict)
            and isinstance(value.get("value"), (str, int, float)) and "\x00" not in str(value["value"]))


def _check_message(template_id: str | None, data, page: str | None) -> None:
    """WeChat's checks on a message, in its order: template, data, page."""
    if not template_id or len(template_id) > 128 or "\x00" in template_id:
        raise WeChatError(wx.INVALID_TEMPLATE_ID)
    if not isinstance(data, dict) or not data or len(data) > MAX_DATA_KEYS or not all(
            _valid_entry(k, v) for k, v in data.items()):
        raise WeChatError(wx.INVALID_ARGS, "argument invalid! data.value is required")
    if page is not None and (len(page) > 512 or "\x00" in page):
        raise WeChatError(wx.INVALID_ARGS, "invalid page")


def deliver_to_inbox(message: MiniProgramMessage, *, app: MiniProgram, now: int) -> str:
    """Add a subscription message to the resident's inbox in this unit of work (category
    "service"; title = the app's name, body = the template's values, deep link = the page) and
    return the inbox message id; the push relay wakes after the caller commits."""
    body = "\n".join(f"{v['value']}" for v in message.data.values())
    link = f"ssb://miniprogram/{app.appid}" + (f"?page={message.page}" if message.page else "")
    delivered = deliver_to_user(message.user_id, category="service", title=app.name, body=body,
                                deep_link=link[:512], now=now)
    return str(delivered.id)

"""Mini-program endpoints: operators register apps, residents consent and hand out codes, and
mini-program backends call the WeChat-compatible server API (same paths and shapes as WeChat's).

The WeChat-compatible blueprint answers every failure, ours included, in WeChat's envelope
`{errcode, errmsg}` with HTTP 200, as WeChat does: its error handlers are scoped to it, and a
routing failure under its prefixes is answered the same way (a wrong method is HTTP 405, an
unknown path 404, a request breaking the documented schema 400 — still in WeChat's envelope).
"""
from __future__ import annotations

import logging

import redis as redis_lib
from flask import g, request
from flask.views import MethodView
from sqlalchemy.exc import SQLAlchemyError
from webargs import core
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from api.errors import AppError
from api.extensions import Blueprint, StrictParser, db, now
from miniprogram_adapter import apps, consents, login, messages, releases
from miniprogram_adapter import wechat_errors as wx
from miniprogram_adapter.schemas import (
    MpConsentList,
    MpConsentRequest,
    MpConsentSchema,
    MpCreated,
    MpIssuedCode,
    MpRegisterRequest,
    MpSecretRotated,
    MpUserInfoBundle,
    WxAccessTokenQuery,
    WxCode2SessionQuery,
    WxCode2SessionResponse,
    WxErrorFields,
    WxLicenceRequest,
    WxLicenceResponse,
    WxOpenidRequest,
    WxPhoneCodeRequest,
    WxPhoneNumberResponse,
    WxRealnameResponse,
    WxStableTokenRequest,
    WxSubscribeMessageRequest,
    WxSubscribeMessageResponse,
    WxTokenQuery,
    WxTokenResponse,
)
from qr import json_limits

log = logging.getLogger("ssb.miniprogram")

# ---------------------------------------------------------------------------- operators

admin_blp = Blueprint("miniprogram_admin", __name__, url_prefix="/v1/admin/miniprograms",
                      description="Mini-programs: registration by operators")


@admin_blp.route("")
class MiniPrograms(MethodView):
    @admin_blp.auth(roles=("operator",))
    @admin_blp.arguments(MpRegisterRequest)
    @admin_blp.response(201, MpCreated)
    def post(self, body):
        """Register a mini-program; its secret is shown once

        Operators only. Answers `appid` and `secret` (only a keyed hash is kept): the
        mini-program's backend uses them with the WeChat-compatible API. `scopes` bound what it
        may ever ask residents for."""
        return apps.register_miniprogram(name=body["name"], owner_org=body["owner_org"], scopes=body["scopes"],
                                             request_domain=body["request_domain"],
                                             created_by=g.principal.user_id, now=now())


@admin_blp.route("/<appid>/secret")
class MiniProgramSecret(MethodView):
    @admin_blp.auth(roles=("operator",))
    @admin_blp.response(200, MpSecretRotated)
    @admin_blp.errors("MP_NOT_FOUND")
    def post(self, appid):
        """Rotate a mini-program's secret: the old one and its access tokens stop working at once

        Operators only, e.g. when a secret leaked. The new secret is shown once."""
        return apps.rotate_secret(appid=appid, now=now())


# ---------------------------------------------------------------------------- residents

resident_blp = Blueprint("miniprogram_resident", __name__, url_prefix="/v1",
                         description="Mini-programs: the resident's side (codes, consent, user info)")


@resident_blp.route("/mp/<appid>/login-code")
class LoginCode(MethodView):
    @resident_blp.auth()
    @resident_blp.response(201, MpIssuedCode)
    @resident_blp.errors("MP_NOT_FOUND", "RATE_LIMITED")
    def post(self, appid):
        """A single-use login code for the mini-program (what wx.login gives), valid 5 minutes

        The signed-in resident, inside the mini-program. Its backend exchanges the code once at
        `GET /sns/jscode2session` for the resident's pairwise openid; nothing else is released."""
        return login.issue_login_code(user_id=g.principal.user_id, appid=appid, now=now())


@resident_blp.route("/mp/<appid>/phone-code")
class PhoneCode(MethodView):
    @resident_blp.auth()
    @resident_blp.response(201, MpIssuedCode)
    @resident_blp.errors("MP_NOT_FOUND", "MP_CONSENT_REQUIRED", "RATE_LIMITED")
    def post(self, appid):
        """A single-use code for getuserphonenumber (what the getPhoneNumber button gives)

        The signed-in resident who consented to `scope.phone` for this mini-program; its backend
        exchanges the code once at `POST /wxa/business/getuserphonenumber`."""
        return login.issue_phone_code(user_id=g.principal.user_id, appid=appid, now=now())


@resident_blp.route("/mp/<appid>/consents")
class Consents(MethodView):
    @resident_blp.auth()
    @resident_blp.arguments(MpConsentRequest)
    @resident_blp.response(200, MpConsentSchema)
    @resident_blp.errors("MP_NOT_FOUND", "MP_SCOPE_NOT_ALLOWED")
    def post(self, body, appid):
        """Consent to scopes the mini-program is allowed to ask for

        The signed-in resident, for themselves; only scopes the operator registered for the app.
        Each later data release is an entry of their access log; `DELETE /v1/me/consents/{appid}`
        withdraws it."""
        return consents.grant_consent(user_id=g.principal.user_id, appid=appid, scopes=body["scopes"], now=now())


@resident_blp.route("/mp/<appid>/user-info")
class UserInfo(MethodView):
    @resident_blp.auth()
    @resident_blp.response(200, MpUserInfoBundle)
    @resident_blp.errors("MP_NOT_FOUND", "MP_CONSENT_REQUIRED", "MP_SESSION_REQUIRED", "RATE_LIMITED")
    def get(self, appid):
        """My user info for the mini-program, signed and encrypted with its session_key (wx.getUserProfile)

        The signed-in resident who consented to `scope.userinfo` and has opened the mini-program
        (a session_key exists): `rawData` + `signature` and `encryptedData` + `iv` as WeChat gives
        them, for the mini-program to pass to its backend."""
        return releases.user_info_bundle(user_id=g.principal.user_id, appid=appid, now=now())


@resident_blp.route("/me/consents")
class MyConsents(MethodView):
    @resident_blp.auth()
    @resident_blp.response(200, MpConsentList)
    def get(self):
        """The mini-programs I consented to, with their scopes

        The signed-in resident's own consents."""
        return consents.list_consents(user_id=g.principal.user_id)


@resident_blp.route("/me/consents/<appid>")
class MyConsent(MethodView):
    @resident_blp.auth()
    @resident_blp.response(204)
    @resident_blp.errors("MP_NOT_FOUND")
    def delete(self, appid):
        """Revoke every consent I gave a mini-program; it takes effect at once

        The signed-in resident: the app's next request for their data is refused (errcode
        8800001)."""
        consents.revoke_consent(user_id=g.principal.user_id, appid=appid)


# ---------------------------------------------------------------------------- WeChat-compatible

WECHAT_PREFIXES = ("/sns/", "/cgi-bin/", "/wxa/", "/ssb/")
BAD_REQUEST_DOC = "A request that breaks this schema (wrong types, unparseable JSON): errcode 40097 or 47001"
# OpenAPI security of the WeChat-compatible calls (schemes declared by miniprogram_adapter.init_app).
APP_CREDENTIALS = [{"wechatAppId": [], "wechatAppSecret": []}]   # appid + secret query parameters
APP_ACCESS_TOKEN = [{"wechatAccessToken": []}]                   # access_token query parameter


class WeChatParser(StrictParser):
    """WeChat reads the body as JSON whatever its Content-Type (SDKs such as wechatpy send none)."""

    def _raw_load_json(self, req):
        data = req.get_data(cache=True)
        if not data:
            return core.missing
        return json_limits.loads(data)


class WeChatBlueprint(Blueprint):
    """Documents only what these operations answer: HTTP 200 with the success fields or the
    `{errcode, errmsg}` envelope (never our envelope, so no 422/default responses)."""

    ARGUMENTS_PARSER = WeChatParser()
    ENVELOPE_ERRORS = False   # failures are {errcode, errmsg}, listed in each description

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._wechat_responses_only)

    @staticmethod
    def _wechat_responses_only(doc, doc_info, **kwargs):
        responses = doc.get("responses", {})
        for status in (422, "422", "default"):
            responses.pop(status, None)
        ok = responses.get(200) or responses.get("200")
        if isinstance(ok, dict):
            ok["description"] = "Success fields, or WeChat's error envelope {errcode, errmsg} (errcode != 0)"
        return doc


wx_blp = WeChatBlueprint("wechat_compatible", __name__, url_prefix="",
                         description="WeChat-compatible server API for mini-program backends: same paths and "
                                     "shapes as WeChat's; failures are HTTP 200 with {errcode, errmsg}")


def _wechat_response(errcode: int, status: int = 200):
    return wx.envelope(errcode, getattr(g, "request_id", None)), status


def _method_not_allowed(exc: MethodNotAllowed):
    allowed = exc.valid_methods or ()
    body, _ = _wechat_response(wx.REQUIRE_POST if "POST" in allowed else wx.REQUIRE_GET)
    return body, 405, {"Allow": ", ".join(allowed)}


@wx_blp.errorhandler(Exception)
def _wechat_error(exc):
    """Every failure on these paths, in WeChat's envelope: our envelope never leaks here."""
    try:
        db.session.rollback()
    except Exception:       # the connection is gone; the pool discards it
        pass
    if isinstance(exc, wx.WeChatError):
        return exc.body(getattr(g, "request_id", None)), 200
    if isinstance(exc, AppError):
        return _wechat_response(wx.FROM_APP_ERROR.get(exc.error.name, wx.SYSTEM_BUSY))
    if isinstance(exc, MethodNotAllowed):
        return _method_not_allowed(exc)
    if isinstance(exc, HTTPException):
        if exc.code == 429:
            return _wechat_response(wx.API_FREQ_LIMIT)
        if exc.code in (400, 413, 415, 422):
            # A request that breaks the documented schema (wrong types, unparseable JSON) is a
            # programming error in the caller: HTTP 400, still in WeChat's envelope.
            return _wechat_response(wx.DATA_FORMAT_ERROR if exc.code == 400 else wx.INVALID_ARGS, 400)
        return _wechat_response(wx.SYSTEM_BUSY)
    if isinstance(exc, (redis_lib.exceptions.ConnectionError, redis_lib.exceptions.TimeoutError, SQLAlchemyError)):
        log.warning("backing store unavailable", extra={"error": type(exc).__name__})
        return _wechat_response(wx.SYSTEM_BUSY)
    log.exception("unhandled error on a WeChat-compatible path")
    return _wechat_response(wx.SYSTEM_BUSY)


@wx_blp.before_app_request
def _wechat_routing_errors():
    """A wrong method or unknown path under WeChat's prefixes never reaches our envelope."""
    exc = request.routing_exception
    if exc is None or not request.path.startswith(WECHAT_PREFIXES):
        return None
    if isinstance(exc, MethodNotAllowed):
        return _method_not_allowed(exc)
    if isinstance(exc, NotFound):
        return {"errcode": wx.INVALID_URL, "errmsg": wx.MESSAGES[wx.INVALID_URL]}, 404
    return None


@wx_blp.route("/sns/jscode2session")
class JsCode2Session(MethodView):
    @wx_blp.arguments(WxCode2SessionQuery, location="query")
    @wx_blp.response(200, WxCode2SessionResponse)
    @wx_blp.alt_response(400, schema=WxErrorFields, description=BAD_REQUEST_DOC)
    @wx_blp.doc(security=APP_CREDENTIALS)
    def get(self, query):
        """code2Session: exchange a login code for {openid, session_key, unionid} (WeChat-compatible)

        A mini-program backend, with its `appid` and `secret` as query parameters and the
        `js_code` a resident's app got from `POST /v1/mp/{appid}/login-code` (once, 5 minutes).
        `openid` is pairwise (differs per appid for one resident). Errors (HTTP 200, `errcode`):
        40013 invalid appid, 40125 invalid appsecret, 41002 appid missing, 41004 appsecret missing, 40002 invalid grant_type, 41008 code missing, 40029 invalid code, 40163 code been
        used, 45011 over the app's per-minute quota, -1 system busy; a request breaking the schema is HTTP 400 with 40097 or 47001."""
        return login.code_to_session(appid=query["appid"], secret=query["secret"], js_code=query["js_code"],
                                        grant_type=query["grant_type"], now=now())


@wx_blp.route("/cgi-bin/token")
class CgiToken(MethodView):
    @wx_blp.arguments(WxTokenQuery, location="query")
    @wx_blp.response(200, WxTokenResponse)
    @wx_blp.alt_response(400, schema=WxErrorFields, description=BAD_REQUEST_DOC)
    @wx_blp.doc(security=APP_CREDENTIALS)
    def get(self, query):
        """getAccessToken: an app access token for 7200 s (WeChat-compatible)

        A mini-program backend, with its `appid` and `secret` as query parameters
        (`grant_type=client_credential`). The token goes as the `access_token` query parameter
        of the other server calls. Errors (HTTP 200, `errcode`): 40013 invalid appid, 40125 invalid appsecret, 41002 appid missing, 41004 appsecret missing, 40002 invalid
        grant_type, 45011 over the app's per-minute quota, -1 system busy; a request breaking the schema is HTTP 400 with 40097 or 47001."""
        return apps.get_access_token(grant_type=query["grant_type"], appid=query["appid"],
                                         secret=query["secret"], now=now())


@wx_blp.route("/cgi-bin/stable_token")
class StableToken(MethodView):
    @wx_blp.arguments(WxStableTokenRequest, required=False)
    @wx_blp.response(200, WxTokenResponse)
    @wx_blp.alt_response(400, schema=WxErrorFields, description=BAD_REQUEST_DOC)
    def post(self, body):
        """getStableAccessToken: the same token until it expires unless force_refresh (WeChat-compatible)

        A mini-program backend, with `appid` and `secret` in the JSON body (as WeChat's
        stable_token takes them). Errors (HTTP 200, `errcode`): 40013 invalid appid, 40125 invalid appsecret, 41002 appid missing, 41004 appsecret missing, 40002 invalid grant_type,
        45011 over the app's per-minute quota, -1 system busy; a request breaking the schema is HTTP 400 with 40097 or 47001."""
        return apps.get_stable_token(grant_type=body["grant_type"], appid=body["appid"], secret=body["secret"],
                                         force_refresh=bool(body["force_refresh"]), now=now())


@wx_blp.route("/wxa/business/getuserphonenumber")
class GetUserPhoneNumber(MethodView):
    @wx_blp.arguments(WxAccessTokenQuery, location="query")
    @wx_blp.arguments(WxPhoneCodeRequest, required=False)
    @wx_blp.response(200, WxPhoneNumberResponse)
    @wx_blp.alt_response(400, schema=WxErrorFields, description=BAD_REQUEST_DOC)
    @wx_blp.doc(security=APP_ACCESS_TOKEN)
    def post(self, query, body):
        """getPhoneNumber: the resident's phone for a phone code, with scope.phone consent (WeChat-compatible)

        A mini-program backend with an app access token, for the single-use `code` from `POST
        /v1/mp/{appid}/phone-code`; the release is an entry of the resident's access log.
        Errors (HTTP 200, `errcode`): 41001 access_token missing, 40001 invalid credential (unknown, or its app's secret was rotated), 42001 access_token expired, 41008 code missing, 40029 invalid code, 40163 code
        been used, 48001 scope.phone not registered for the app, 8800001 no consent, 40003 the
        account is gone, 45011 over the app's per-minute quota, -1 system busy; a request breaking the schema is HTTP 400 with 40097 or 47001."""
        return releases.get_phone_number(access_token=query["access_token"], code=body["code"], now=now())


@wx_blp.route("/ssb/realname/get")
class RealnameGet(MethodView):
    @wx_blp.arguments(WxAccessTokenQuery, location="query")
    @wx_blp.arguments(WxOpenidRequest, required=False)
    @wx_blp.response(200, WxRealnameResponse)
    @wx_blp.alt_response(400, schema=WxErrorFields, description=BAD_REQUEST_DOC)
    @wx_blp.doc(security=APP_ACCESS_TOKEN)
    def post(self, query, body):
        """Suishenban extension: verified name and masked identity number, with scope.realname consent

        A mini-program backend with an app access token, for an `openid` of its own app; logged
        in the resident's access log. Errors (HTTP 200, `errcode`): 41001 access_token missing, 40001 invalid credential (unknown, or its app's secret was rotated), 42001 access_token expired, 40003 invalid openid,
        48001 scope not registered, 8800001 no consent, 8800002 not real-name verified,
        45011 over the app's per-minute quota, -1 system busy; a request breaking the schema is HTTP 400 with 40097 or 47001."""
        return releases.get_realname(access_token=query["access_token"], openid=body["openid"], now=now())


@wx_blp.route("/ssb/licence/get")
class LicenceGet(MethodView):
    @wx_blp.arguments(WxAccessTokenQuery, location="query")
    @wx_blp.arguments(WxLicenceRequest, required=False)
    @wx_blp.response(200, WxLicenceResponse)
    @wx_blp.alt_response(400, schema=WxErrorFields, description=BAD_REQUEST_DOC)
    @wx_blp.doc(security=APP_ACCESS_TOKEN)
    def post(self, query, body):
        """Suishenban extension: one e-licence of the resident, with scope.licence.<type> consent

        A mini-program backend with an app access token, for an `openid` of its own app; fields
        masked, logged in the resident's access log. Errors (HTTP 200, `errcode`): 41001 access_token missing, 40001 invalid credential (unknown, or its app's secret was rotated), 42001 access_token expired, 40003
        invalid openid, 40097 invalid type, 48001 scope not registered, 8800001 no consent,
        8800003 no such licence, 45011 over the app's per-minute quota, -1 system busy; a request breaking the schema is HTTP 400 with 40097 or 47001."""
        return releases.get_licence(access_token=query["access_token"], openid=body["openid"],
                                    licence_type=body["type"], now=now())


@wx_blp.route("/cgi-bin/message/subscribe/send")
class SubscribeSend(MethodView):
    @wx_blp.arguments(WxAccessTokenQuery, location="query")
    @wx_blp.arguments(WxSubscribeMessageRequest, required=False)
    @wx_blp.response(200, WxSubscribeMessageResponse)
    @wx_blp.alt_response(400, schema=WxErrorFields, description=BAD_REQUEST_DOC)
    @wx_blp.doc(security=APP_ACCESS_TOKEN)
    def post(self, query, body):
        """subscribeMessage.send: a message into the resident's inbox, with scope.subscribe_message consent

        A mini-program backend with an app access token, to an `openid` of its own app; the
        resident's notification preferences apply. Errors (HTTP 200, `errcode`): 41001 access_token missing, 40001 invalid credential (unknown, or its app's secret was rotated), 42001 access_token expired, 40003
        invalid openid, 40037 invalid template_id, 40097 invalid args, 48001 scope not
        registered, 43101 the resident did not subscribe, 45011 over the app's per-minute quota, -1 system busy; a request breaking the schema is HTTP 400 with 40097 or 47001."""
        return messages.send_subscribe_message(access_token=query["access_token"], touser=body["touser"],
                                               template_id=body["template_id"], data=body["data"],
                                               page=body["page"], now=now())


blueprints = [admin_blp, resident_blp, wx_blp]

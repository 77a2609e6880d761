"""An example mini-program backend, written against WeChat's server API with wechatpy, that runs
on Suishenban by changing only the base URL (SSB_API_BASE).

    SSB_API_BASE=http://127.0.0.1:8000 MP_APPID=ssb... MP_SECRET=... \
        python examples/miniprogram_backend/app.py          # serves on 127.0.0.1:8100

Endpoints (what a mini-program front end calls on its own backend):
    POST /api/login      {code}                 wx.login code → our own session token
    POST /api/phone      {code}                 getPhoneNumber code → the phone number
    POST /api/userinfo   {rawData, signature, encryptedData, iv}   checked + decrypted user info
    POST /api/realname   {}                     Suishenban extension: verified real name
    POST /api/notify     {template_id, data, page}   subscription message to the resident
Send the session token from /api/login as `X-Session`. WeChat errors come back as
`{"errcode": N, "errmsg": "..."}` with HTTP 400.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from flask import Flask, jsonify, request
from wechatpy import WeChatClient
from wechatpy.crypto import WeChatWxaCrypto
from wechatpy.exceptions import WeChatClientException

WECHAT_BASE = "https://api.weixin.qq.com"


class MiniProgramClient(WeChatClient):
    """wechatpy's client with the base URL made configurable; nothing else differs.

    wechatpy 1.8 keeps the base URL in three places: the client's `API_BASE_URL` (cgi-bin
    APIs), the `wxa` API's `API_BASE_URL` (jscode2session, wxa/...), and the token URL inside
    `fetch_access_token`. All three are derived from `base_url` here.
    """

    def __init__(self, appid: str, secret: str, *, base_url: str = WECHAT_BASE, **kwargs) -> None:
        super().__init__(appid, secret, **kwargs)
        self.base_url = base_url.rstrip("/") + "/"
        self.API_BASE_URL = self.base_url + "cgi-bin/"
        self.wxa.API_BASE_URL = self.base_url

    def fetch_access_token(self):
        return self._fetch_access_token(url=self.base_url + "cgi-bin/token",
                                        params={"grant_type": "client_credential", "appid": self.appid,
                                                "secret": self.secret})

    # WeChat APIs newer than wechatpy 1.8, called through its generic request machinery.
    def get_user_phone_number(self, code: str) -> dict:
        return self.wxa._post("wxa/business/getuserphonenumber", data={"code": code})

    def ssb_realname(self, openid: str) -> dict:
        return self.wxa._post("ssb/realname/get", data={"openid": openid})


def create_app(*, base_url: str | None = None, appid: str | None = None, secret: str | None = None,
               client: MiniProgramClient | None = None) -> Flask:
    app = Flask(__name__)
    appid = appid or os.environ["MP_APPID"]
    client = client or MiniProgramClient(appid, secret or os.environ["MP_SECRET"],
                                         base_url=base_url or os.environ.get("SSB_API_BASE", WECHAT_BASE),
                                         timeout=10)
    app.extensions["wechat"] = client
    sessions: dict[str, dict] = {}      # a real backend keeps these in its own store

    def current() -> dict | None:
        return sessions.get(request.headers.get("X-Session", ""))

    @app.errorhandler(WeChatClientException)
    def _wechat_error(exc: WeChatClientException):
        return jsonify(errcode=exc.errcode, errmsg=exc.errmsg), 400

    @app.post("/api/login")
    def login():
        result = client.wxa.code_to_session((request.get_json() or {}).get("code", ""))
        token = secrets.token_urlsafe(24)
        sessions[token] = {"openid": result["openid"], "unionid": result.get("unionid"),
                           "session_key": result["session_key"]}
        return jsonify(session=token, openid=result["openid"], unionid=result.get("unionid"))

    @app.post("/api/phone")
    def phone():
        if current() is None:
            return jsonify(error="login first"), 401
        info = client.get_user_phone_number((request.get_json() or {}).get("code", ""))["phone_info"]
        if info["watermark"]["appid"] != appid:
            return jsonify(error="watermark mismatch"), 400
        return jsonify(phone=info["purePhoneNumber"], country_code=info["countryCode"])

    @app.post("/api/userinfo")
    def userinfo():
        session = current()
        if session is None:
            return jsonify(error="login first"), 401
        body = request.get_json() or {}
        expected = hashlib.sha1((body.get("rawData", "") + session["session_key"]).encode()).hexdigest()
        if not hmac.compare_digest(expected, body.get("signature", "")):
            return jsonify(error="bad signature"), 400
        data = WeChatWxaCrypto(session["session_key"], body["iv"], appid).decrypt_message(body["encryptedData"])
        return jsonify(user=data)

    @app.post("/api/realname")
    def realname():
        session = current()
        if session is None:
            return jsonify(error="login first"), 401
        info = client.ssb_realname(session["openid"])["realname_info"]
        return jsonify(name=info["name"], id_number=info["id_number"])

    @app.post("/api/notify")
    def notify():
        session = current()
        if session is None:
            return jsonify(error="login first"), 401
        body = request.get_json() or {}
        result = client.wxa.send_subscribe_message(session["openid"], body["template_id"], body["data"],
                                                   page=body.get("page"))
        return jsonify(msgid=result.get("msgid"))

    return app


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "8100")))

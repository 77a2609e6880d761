"""WeChat's error envelope `{errcode, errmsg}` and how our own failures map onto it.

WeChat answers HTTP 200 with a non-zero `errcode`; backends written against it branch on the
number, so the WeChat-compatible paths never emit Suishenban's JSON envelope. Codes WeChat has
are reused with WeChat's meaning; what WeChat has no code for uses our own range (88000xx).
"""
from __future__ import annotations

from dataclasses import dataclass

OK = 0
SYSTEM_BUSY = -1
INVALID_CREDENTIAL = 40001           # access_token invalid (or appsecret wrong on /cgi-bin/token)
INVALID_GRANT_TYPE = 40002
INVALID_OPENID = 40003
INVALID_APPID = 40013
INVALID_CODE = 40029                 # unknown, expired or another app's code
INVALID_TEMPLATE_ID = 40037
INVALID_URL = 40066
INVALID_ARGS = 40097
INVALID_APPSECRET = 40125
CODE_BEEN_USED = 40163
MISSING_ACCESS_TOKEN = 41001
MISSING_APPID = 41002
MISSING_SECRET = 41004
MISSING_CODE = 41008
EXPIRED_ACCESS_TOKEN = 42001
REQUIRE_GET = 43001
REQUIRE_POST = 43002
USER_REFUSED_MESSAGE = 43101         # no subscription (here: no scope.subscribe_message consent)
EMPTY_POST_DATA = 44002
DATA_FORMAT_ERROR = 47001
API_FREQ_LIMIT = 45011
API_UNAUTHORIZED = 48001             # the app was not granted this capability
# Suishenban's own range
CONSENT_REQUIRED = 8800001           # the resident has not consented to this scope (or revoked it)
NOT_REAL_NAME_VERIFIED = 8800002     # the resident has not verified their real name
LICENCE_NOT_FOUND = 8800003          # no such licence for this resident
LICENCE_SERVICE_UNAVAILABLE = 8800004

MESSAGES = {
    OK: "ok",
    SYSTEM_BUSY: "system error",
    INVALID_CREDENTIAL: "invalid credential, access_token is invalid or not latest",
    INVALID_GRANT_TYPE: "invalid grant_type",
    INVALID_OPENID: "invalid openid",
    INVALID_APPID: "invalid appid",
    INVALID_CODE: "invalid code",
    INVALID_TEMPLATE_ID: "invalid template_id",
    INVALID_URL: "invalid url",
    INVALID_ARGS: "invalid args",
    INVALID_APPSECRET: "invalid appsecret",
    CODE_BEEN_USED: "code been used",
    MISSING_ACCESS_TOKEN: "access_token missing",
    MISSING_APPID: "appid missing",
    MISSING_SECRET: "appsecret missing",
    MISSING_CODE: "code missing",
    EXPIRED_ACCESS_TOKEN: "access_token expired",
    REQUIRE_GET: "require GET method",
    REQUIRE_POST: "require POST method",
    USER_REFUSED_MESSAGE: "user refuse to accept the msg",
    EMPTY_POST_DATA: "empty post data",
    DATA_FORMAT_ERROR: "data format error",
    API_FREQ_LIMIT: "api minute-quota reach limit, must slower, retry next minute",
    API_UNAUTHORIZED: "api unauthorized",
    CONSENT_REQUIRED: "user has not authorized this scope",
    NOT_REAL_NAME_VERIFIED: "user has not completed real-name verification",
    LICENCE_NOT_FOUND: "licence not found",
    LICENCE_SERVICE_UNAVAILABLE: "licence service unavailable",
}

# Our AppError names (raised by shared services) → WeChat errcodes.
FROM_APP_ERROR = {
    "RATE_LIMITED": API_FREQ_LIMIT,
    "VALIDATION_ERROR": INVALID_ARGS,
    "BAD_REQUEST": INVALID_ARGS,
    "UNSUPPORTED_MEDIA_TYPE": INVALID_ARGS,
    "PAYLOAD_TOO_LARGE": INVALID_ARGS,
    "METHOD_NOT_ALLOWED": REQUIRE_GET,
    "ACCOUNT_DISABLED": INVALID_OPENID,
    "USER_NOT_FOUND": INVALID_OPENID,
}


@dataclass
class WeChatError(Exception):
    """Raised by the WeChat-compatible use cases; rendered as `{errcode, errmsg}` with HTTP 200."""

    errcode: int
    errmsg: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.errcode)

    def body(self, request_id: str | None = None) -> dict:
        message = self.errmsg or MESSAGES.get(self.errcode, "error")
        if request_id:      # WeChat appends a request id ("rid") for support
            message = f"{message}, rid: {request_id}"
        return {"errcode": self.errcode, "errmsg": message}


def envelope(errcode: int, request_id: str | None = None) -> dict:
    return WeChatError(errcode).body(request_id)

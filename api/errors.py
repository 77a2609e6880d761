"""One error envelope for every failure, with stable machine codes clients branch on.

    {"code": 409, "status": "Conflict", "error": "CODE_REPLAYED", "message": "...",
     "errors": {...}, "request_id": "..."}

`message` is chosen from zh-CN / en by Accept-Language. Services raise `AppError(ErrorCode.X)`;
HTTP-level failures (404, 405, 413, 415, 422, 429, 500) are mapped to the same envelope.
Other packages register their codes with `register_codes` so the catalogue stays in one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus


@dataclass(frozen=True)
class ErrorCode:
    name: str
    status: int
    en: str
    zh: str


_CATALOGUE: dict[str, ErrorCode] = {}


def register_codes(*codes: tuple[str, int, str, str]) -> None:
    for name, status, en, zh in codes:
        _CATALOGUE[name] = ErrorCode(name, status, en, zh)


def code(name: str) -> ErrorCode:
    return _CATALOGUE[name]


register_codes(
    # Generic HTTP
    ("BAD_REQUEST", 400, "The request could not be understood.", "请求无法解析。"),
    ("UNAUTHENTICATED", 401, "Sign-in is required.", "请先登录。"),
    ("INVALID_TOKEN", 401, "The access token is invalid or has expired.", "访问令牌无效或已过期。"),
    ("FORBIDDEN", 403, "You are not allowed to do this.", "您无权执行此操作。"),
    ("NOT_FOUND", 404, "Not found.", "未找到请求的资源。"),
    ("METHOD_NOT_ALLOWED", 405, "This method is not allowed here.", "不支持该请求方法。"),
    ("CONFLICT", 409, "The request conflicts with the current state.", "请求与当前状态冲突。"),
    ("PAYLOAD_TOO_LARGE", 413, "The request body is too large.", "请求内容过大。"),
    ("UNSUPPORTED_MEDIA_TYPE", 415, "Send the body as application/json.", "请以 application/json 格式提交。"),
    ("VALIDATION_ERROR", 422, "Some fields are invalid.", "部分字段不合法。"),
    ("RATE_LIMITED", 429, "Too many requests; try again later.", "请求过于频繁，请稍后再试。"),
    ("INTERNAL_ERROR", 500, "Something went wrong on our side.", "服务器内部错误。"),
    ("DATABASE_UNAVAILABLE", 503, "The database is unavailable; try again shortly.", "数据库暂不可用，请稍后重试。"),
    ("REDIS_UNAVAILABLE", 503, "A backing service is unavailable; try again shortly.", "缓存服务暂不可用，请稍后重试。"),
    ("UPSTREAM_UNAVAILABLE", 503, "An external service is unavailable; try again shortly.", "外部服务暂不可用，请稍后重试。"),
    # Auth
    ("INVALID_PHONE", 422, "This is not a valid mobile phone number.", "手机号码格式不正确。"),
    ("OTP_COOLDOWN", 429, "A code was sent recently; wait before asking again.", "验证码已发送，请稍后再试。"),
    ("OTP_INVALID", 401, "The verification code is wrong or has expired.", "验证码错误或已过期。"),
    ("OTP_LOCKED", 401, "Too many wrong codes; ask for a new one.", "验证码错误次数过多，请重新获取。"),
    ("REFRESH_TOKEN_INVALID", 401, "The refresh token is invalid or has expired.", "刷新令牌无效或已过期。"),
    ("REFRESH_TOKEN_REUSED", 401, "This refresh token was already used; the session was signed out for safety.",
     "刷新令牌已被使用，为安全起见该会话已退出。"),
    ("SESSION_NOT_FOUND", 404, "No such session.", "会话不存在。"),
    ("ACCOUNT_DISABLED", 403, "This account is disabled.", "该账户已停用。"),
    ("ROLE_REQUIRED", 403, "Your account does not have the role this needs.", "您的账户没有执行此操作的角色。"),
    # Real name
    ("INVALID_ID_NUMBER", 422, "The identity number is not valid.", "证件号码不合法。"),
    ("REAL_NAME_MISMATCH", 422, "The name and identity number do not match the registry.", "姓名与证件号码不匹配。"),
    ("REAL_NAME_TAKEN", 409, "This identity is already verified on another account.", "该身份已在其他账户完成实名认证。"),
    ("ALREADY_VERIFIED", 409, "Your account is already real-name verified.", "您的账户已完成实名认证。"),
)


class AppError(Exception):
    """A failure a client can act on. `errors` carries field-level detail."""

    def __init__(self, name: str, *, errors: dict | None = None, detail: str | None = None,
                 headers: dict | None = None) -> None:
        self.error = code(name)
        self.errors = errors
        self.detail = detail
        self.headers = headers or {}
        super().__init__(name)

    @property
    def status(self) -> int:
        return self.error.status


def status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def prefers_chinese(accept_language: str | None) -> bool:
    """zh-CN when the client ranks any Chinese above English; English otherwise."""
    if not accept_language:
        return False
    best_zh = best_en = -1.0
    for part in accept_language.split(","):
        lang, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = lang.strip().lower()
        if lang.startswith("zh"):
            best_zh = max(best_zh, q)
        elif lang.startswith("en") or lang == "*":
            best_en = max(best_en, q)
    return best_zh > best_en and best_zh > 0


def envelope(name: str, *, status: int | None = None, chinese: bool, request_id: str | None,
             errors: dict | None = None, detail: str | None = None) -> dict:
    err = _CATALOGUE.get(name) or _CATALOGUE["INTERNAL_ERROR"]
    status = status or err.status
    message = err.zh if chinese else err.en
    if detail:
        message = f"{message} ({detail})"
    body = {"code": status, "status": status_phrase(status), "error": err.name, "message": message,
            "request_id": request_id}
    if errors:
        body["errors"] = errors
    return body

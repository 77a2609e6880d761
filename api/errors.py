"""One error envelope for every failure, with stable machine codes clients branch on.

    {"code": 409, "status": "Conflict", "error": "CODE_REPLAYED", "message": "...",
     "errors": {...}, "request_id": "..."}

`message` is chosen from zh-CN / en by Accept-Language. Services raise `AppError(ErrorCode.X)`;
HTTP-level failures (404, 405, 413, 415, 422, 429, 500) are mapped to the same envelope.
Every machine code lives in the one catalogue, `api/error_codes.py`, which tooling lists (the OpenAPI
document names the codes each operation can answer).
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


def _catalogue() -> dict[str, ErrorCode]:
    from api.error_codes import CODES
    return {name: ErrorCode(name, status, en, zh) for name, status, en, zh in CODES}


CATALOGUE: dict[str, ErrorCode] = _catalogue()


def code(name: str) -> ErrorCode:
    return CATALOGUE[name]




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
    err = CATALOGUE.get(name) or CATALOGUE["INTERNAL_ERROR"]
    status = status or err.status
    message = err.zh if chinese else err.en
    if detail:
        message = f"{message} ({detail})"
    body = {"code": status, "status": status_phrase(status), "error": err.name, "message": message,
            "request_id": request_id}
    if errors:
        body["errors"] = errors
    return body

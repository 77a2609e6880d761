"""Which services can be rated, and the fixed bilingual tags for each kind of service.

A kind absent from `TAGS` (a new access kind another capability adds later) is not rateable
until someone decides what its subject is (`subjects.subject_of`) and lists its tags here.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tag:
    code: str
    zh: str
    en: str
    positive: bool


def _t(code: str, zh: str, en: str, positive: bool) -> Tag:
    return Tag(code, zh, en, positive)


_AT_A_VENUE = (
    _t("quick", "办理快捷", "Quick", True),
    _t("courteous", "态度热情", "Courteous", True),
    _t("clear_guidance", "指引清楚", "Clear guidance", True),
    _t("privacy_respected", "尊重隐私", "Respected my privacy", True),
    _t("long_wait", "等候时间长", "Long wait", False),
    _t("unfriendly", "态度生硬", "Unfriendly", False),
    _t("unclear_guidance", "指引不清", "Unclear guidance", False),
    _t("extra_documents", "要求额外材料", "Asked for extra documents", False),
)

TAGS: dict[str, tuple[Tag, ...]] = {
    "code_scan": _AT_A_VENUE + (
        _t("scan_smooth", "扫码顺畅", "Scan went smoothly", True),
        _t("scanner_failed", "扫码设备故障", "Scanner did not work", False),
    ),
    "checkin": _AT_A_VENUE + (
        _t("code_easy_to_find", "场所码醒目", "Place code easy to find", True),
        _t("code_hard_to_find", "场所码难找", "Place code hard to find", False),
    ),
    "licence_view": _AT_A_VENUE + (
        _t("only_what_needed", "只看必要信息", "Saw only what was needed", True),
        _t("saw_too_much", "查看信息过多", "Looked at more than needed", False),
    ),
    "miniprogram_release": (
        _t("useful", "服务实用", "Useful", True),
        _t("clear_purpose", "用途说明清楚", "Purpose clearly explained", True),
        _t("fast", "响应迅速", "Fast", True),
        _t("too_much_data", "索取信息过多", "Asked for too much data", False),
        _t("unexpected_use", "用途与说明不符", "Used my data unexpectedly", False),
        _t("slow", "响应缓慢", "Slow", False),
        _t("hard_to_use", "操作复杂", "Hard to use", False),
    ),
}

RATEABLE_KINDS = tuple(TAGS)
MAX_TAGS = 5


def tag_codes(kind: str) -> frozenset[str]:
    return frozenset(t.code for t in TAGS.get(kind, ()))


def catalogue(kind: str | None = None) -> list[dict]:
    kinds = [kind] if kind else list(TAGS)
    return [{"kind": k, "tags": [{"code": t.code, "zh": t.zh, "en": t.en, "positive": t.positive}
                                 for t in TAGS.get(k, ())]}
            for k in kinds if k in TAGS]

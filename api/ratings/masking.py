"""Masking personal data in public text (rating comments, replies) before it is stored.

What is masked:
- e-mail addresses;
- digit runs (separators, full-width digits and a `+` allowed) that are mobile numbers
  (`138****5678`), identity numbers of 18 (with X) or 15 characters (`3101**********123X`), or
  any other run of 8 or more digits (landlines, cards: all but the last 4), except a plain date;
- names of people we know (the rater's registered name, the venue's staff), spaced or not;
- a common surname right before a title or honorific (王先生 -> *先生, 张医生 -> *医生), a name
  after 叫/名叫/姓名, and "Mr/Ms/Dr Name" in English.

Masking never lengthens the text. Heuristics err towards masking: a word that merely looks like a name may lose a character;
a real name written without any cue and unknown to us is not found (no NLP model).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from api.pii import mask_name

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_SEP = r"[\s\-\u2010-\u2015\u2212\uff0d.\u3002\u00b7()\uff08\uff09]{0,2}"
_X = "[XxＸｘ]"
_DIGIT_RUN = re.compile(rf"[+＋]?\d(?:{_SEP}\d)*(?:{_SEP}{_X})?")

# The most common surnames, minus those that are also everyday function words (于, 向).
_SURNAMES = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "司徒", "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "萧", "田", "董", "袁", "潘", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏", "韦", "付", "傅", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "阎", "段", "雷", "侯", "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "覃", "武", "戴", "莫", "孔", "汤", "常", "施", "俞", "殷", "庞", "樊", "柳", "齐", "乔", "葛", "倪", "吉", "冷", "祝", "邢"]
_TITLES = ["先生", "女士", "小姐", "老师", "师傅", "医生", "医师", "护士", "大夫", "阿姨", "叔叔", "大爷", "大妈", "大姐", "大哥", "经理", "主任", "同志", "警官", "律师", "科长", "处长", "所长", "站长", "馆长", "院长", "局长", "老板", "姐", "哥"]
_SURNAME_ALT = "|".join(sorted(_SURNAMES, key=len, reverse=True))
_TITLE_ALT = "|".join(sorted(_TITLES, key=len, reverse=True))
_HONORIFIC = re.compile(rf"({_SURNAME_ALT})(?=(?:{_TITLE_ALT}))")
_CUED_NAME = re.compile(rf"(?:名叫|叫做|叫|姓名[:：]?\s*|名字是)(({_SURNAME_ALT})[\u4e00-\u9fff]{{1,2}})")
_ENGLISH_TITLE = re.compile(r"\b(Mr|Mrs|Ms|Miss|Dr)(\.?\s+)([A-Z][A-Za-z'\-]+)")
# Everyday words that end in a surname character and often precede a title (感谢医生 is not a name).
_WORDS_ENDING_IN_SURNAME = frozenset(["谢谢", "感谢", "多谢", "致谢", "鸣谢", "答谢", "主任", "责任", "信任", "担任", "前任", "现任", "历史", "明白", "一方", "对方", "双方", "地方", "大方", "金牌", "高级", "高端", "万能"])


def mask_personal_data(text: str | None, known_names: Iterable[str] = ()) -> str | None:
    """The text with personal data masked; None stays None."""
    return _mask(text, known_names) if text else text


def _mask(text: str, known_names: Iterable[str]) -> str:
    text = _EMAIL.sub(_mask_email, text)
    text = _DIGIT_RUN.sub(_mask_digit_run, text)
    for name in sorted({n.strip() for n in known_names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        spaced = r"\s*".join(re.escape(ch) for ch in name.replace(" ", ""))
        masked = mask_name(name)
        text = re.sub(spaced, masked.replace("\\", "\\\\"), text, flags=re.IGNORECASE)
    text = _CUED_NAME.sub(lambda m: m.group(0)[:m.start(1) - m.start(0)] + "*" * len(m.group(1)), text)
    source = text
    text = _HONORIFIC.sub(lambda m: _mask_surname(m, source), source)
    return _ENGLISH_TITLE.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)[0]}{'*' * (len(m.group(3)) - 1)}",
                              text)


def _mask_email(match: re.Match) -> str:
    local, _, domain = match.group(0).partition("@")
    return f"{local[0]}***@{domain}"


def _mask_surname(match: re.Match, text: str) -> str:
    start = match.start()
    if text[max(0, start - 1):start + 1] in _WORDS_ENDING_IN_SURNAME:
        return match.group(0)
    return "*" * len(match.group(1))


def _mask_digit_run(match: re.Match) -> str:
    raw = match.group(0)
    digits = "".join(str(unicodedata.decimal(ch)) for ch in raw if ch.isdecimal())
    has_x = raw[-1] in "XxＸｘ"
    if has_x and len(digits) == 17:
        return f"{digits[:4]}{'*' * 10}{digits[-3:]}X"
    suffix = raw[-1] if has_x else ""      # an X that is no identity number's check character stays
    mobile = _as_mobile(digits)
    if mobile:
        return f"{mobile[:3]}****{mobile[-4:]}{suffix}"
    if len(digits) in (15, 18):
        return f"{digits[:4]}{'*' * (len(digits) - 8)}{digits[-4:]}{suffix}"
    if len(digits) >= 8 and not _is_plain_date(digits):
        return "*" * (len(digits) - 4) + digits[-4:] + suffix
    return raw


def _as_mobile(digits: str) -> str | None:
    for prefix in ("0086", "86", ""):
        rest = digits[len(prefix):]
        if digits.startswith(prefix) and len(rest) == 11 and rest[0] == "1" and rest[1] in "3456789":
            return rest
    return None


def _is_plain_date(digits: str) -> bool:
    if len(digits) != 8:
        return False
    try:
        return 1900 <= date(int(digits[:4]), int(digits[4:6]), int(digits[6:])).year <= 2100
    except ValueError:
        return False

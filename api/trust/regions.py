"""GB/T 2260 administrative division codes of the Yangtze River Delta (长三角: 沪苏浙皖).

The rule a peer's `region` must follow: six digits `PPCCDD` where `PP` is one of the four
provinces (31 上海, 32 江苏, 33 浙江, 34 安徽); `CC00`/`CCDD` is either `0000` (the province
itself) or names one of the province's prefecture-level cities listed below, and `DD` any
county-level unit of that city (e.g. 320583 昆山市 under 3205 苏州市). Cities are those of the
current GB/T 2260 edition; a county code is accepted without checking its `DD` against the
edition (counties are merged and renumbered more often than the federation's peers change).
"""
from __future__ import annotations

import re

PROVINCES = {"31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省"}

CITIES = {
    "3101": "上海市",
    "3201": "南京市", "3202": "无锡市", "3203": "徐州市", "3204": "常州市", "3205": "苏州市", "3206": "南通市",
    "3207": "连云港市", "3208": "淮安市", "3209": "盐城市", "3210": "扬州市", "3211": "镇江市", "3212": "泰州市",
    "3213": "宿迁市",
    "3301": "杭州市", "3302": "宁波市", "3303": "温州市", "3304": "嘉兴市", "3305": "湖州市", "3306": "绍兴市",
    "3307": "金华市", "3308": "衢州市", "3309": "舟山市", "3310": "台州市", "3311": "丽水市",
    "3401": "合肥市", "3402": "芜湖市", "3403": "蚌埠市", "3404": "淮南市", "3405": "马鞍山市", "3406": "淮北市",
    "3407": "铜陵市", "3408": "安庆市", "3410": "黄山市", "3411": "滁州市", "3412": "阜阳市", "3413": "宿州市",
    "3415": "六安市", "3416": "亳州市", "3417": "池州市", "3418": "宣城市",
}

_CODE = re.compile(r"^\d{6}$")


def is_delta_region(code) -> bool:
    """A province, prefecture-level city or county code of 沪苏浙皖 (see the module docstring)."""
    if not isinstance(code, str) or not _CODE.match(code) or code[:2] not in PROVINCES:
        return False
    if code[2:4] == "00":
        return code[4:] == "00"
    return code[:4] in CITIES


def region_name(code: str) -> str | None:
    """The province or city a code belongs to (a county is named by its city), or None."""
    if not is_delta_region(code):
        return None
    if code[2:] == "0000":
        return PROVINCES[code[:2]]
    city = CITIES[code[:4]]
    return city if code[:2] == "31" else PROVINCES[code[:2]] + city

"""Bounded JSON parsing for untrusted text (request bodies, token headers and claims).

`json.loads` alone lets a hostile document cost a stack overflow (`[[[[...` a few thousand
levels deep raises RecursionError) or a quadratic integer conversion (CPython refuses integers of
more than 4,300 digits only after reading them, with a ValueError). `loads` here refuses both
before parsing work is done on them, and refuses the non-JSON constants NaN and Infinity that
Python's parser accepts:

- nesting depth is measured first by a linear scan that skips string contents;
- integer literals longer than `max_digits` and non-finite numbers are refused as they are met.

Every refusal is a `json.JSONDecodeError` (a ValueError), so callers that already turn invalid
JSON into a 400 answer these the same way.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
MAX_DIGITS = 40          # our largest integer is a 64-bit id (19 digits)

_SPECIAL = re.compile(r'[\[\]{}"\\]')


def nesting_depth_exceeds(text: str, limit: int) -> bool:
    """True when arrays/objects nest deeper than `limit` (brackets inside strings do not count).

    Linear in the number of brackets, quotes and backslashes; documents with few brackets are
    answered by two `str.count` calls."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _SPECIAL.finditer(text):
        pos, char = match.start(), match.group()
        if in_string:
            if pos == escaped_at:
                continue                     # the character after a backslash
            if char == "\\":
                escaped_at = pos + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


class _Refused(ValueError):
    pass


def _parse_int(literal: str, max_digits: int) -> int:
    if len(literal.lstrip("-")) > max_digits:
        raise _Refused(f"integer longer than {max_digits} digits")
    return int(literal)


def _parse_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _Refused("number out of range")
    return value


def _parse_constant(name: str):
    raise _Refused(f"{name} is not JSON")


def loads(data: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH, max_digits: int = MAX_DIGITS) -> Any:
    """`json.loads` with bounded nesting and number size; raises json.JSONDecodeError."""
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"not UTF-8: {exc.reason}", "<bytes>", exc.start) from None
    else:
        text = data
    if nesting_depth_exceeds(text, max_depth):
        raise json.JSONDecodeError(f"nested deeper than {max_depth} levels", text or "<deep>", 0)
    try:
        return json.loads(text, parse_int=lambda s: _parse_int(s, max_digits), parse_float=_parse_float,
                          parse_constant=_parse_constant)
    except _Refused as exc:
        raise json.JSONDecodeError(str(exc), text or "<refused>", 0) from None

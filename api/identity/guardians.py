"""Guardians the population registry names for a person (`guardian_id_numbers`).

The registry gives bare identity numbers, `;`-separated, without their document type. We keep
each one only as the keyed blind index a user holding it would have (`users.id_number_bidx` is
`blind_index(id_type, number)`), computed for every document type the number is valid for: a
guardian is then recognised by set membership of their own index, and no number is stored.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from api.errors import AppError
from api.identity.identity_numbers import ID_TYPES, normalise

COLUMN = "guardian_id_numbers"
MAX_GUARDIANS = 4


def split_numbers(value) -> list[str]:
    """A `;`-separated string (CSV, HTTP registry) or a list of strings, as clean numbers."""
    if value is None:
        return []
    parts = value.split(";") if isinstance(value, str) else list(value)
    if not all(isinstance(p, str) for p in parts):
        raise ValueError("guardian numbers must be strings")
    return [p.strip() for p in parts if p and p.strip()]


def guardian_indexes(value, blind_index: Callable[[str, str], str]) -> list[str]:
    """The blind indexes of the guardians in `value`; ValueError if one is not a valid number
    of any document type, or if there are implausibly many."""
    numbers = split_numbers(value)
    if len(numbers) > MAX_GUARDIANS:
        raise ValueError("too many guardians")
    out: list[str] = []
    for number in numbers:
        indexes = list(_indexes_of(number, blind_index))
        if not indexes:
            raise ValueError("invalid guardian identity number")
        out.extend(i for i in indexes if i not in out)
    return out


def _indexes_of(number: str, blind_index) -> Iterable[str]:
    for id_type in ID_TYPES:
        try:
            yield blind_index(id_type, normalise(id_type, number))
        except AppError:
            continue

"""GB 32100 unified social credit codes: fixed vectors, then every refusal."""
import pytest

from api.enterprises.credit_codes import CHARSET, check_char, is_valid, normalise_credit_code
from api.errors import AppError

# Published codes of real enterprises (public registration records).
REAL = ["91350100M000100Y43", "9144030071526726XG", "91330100799655058B", "91110108551385082Q"]


@pytest.mark.parametrize("code", REAL)
def test_published_codes_validate(code):
    assert is_valid(code)
    assert normalise_credit_code(code.lower()) == code


def test_check_character_comes_from_the_charset_and_the_weights():
    # Σ value×weight for "00000000000000001" is 28 (last weight) → 31 - 28 = 3.
    assert check_char("00000000000000001") == "3"
    assert check_char("0" * 17) == "0"
    assert all(check_char(f"9131000{c}MA1FL000") in CHARSET for c in "0123456789")


@pytest.mark.parametrize("code,why", [
    (REAL[0][:-1] + ("4" if REAL[0][-1] != "4" else "5"), "check character"),
    (REAL[0][:17], "too short"),
    (REAL[0] + "0", "too long"),
    ("91350100M000100I43", "I is not in the charset"),
    ("91350100M000100O43", "O is not in the charset"),
    ("9135010０M000100Y43", "full-width digit"),
    ("", "empty"),
])
def test_bad_codes_are_refused(code, why):
    assert not is_valid(code.upper())
    with pytest.raises(AppError) as exc:
        normalise_credit_code(code)
    assert exc.value.error.name == "INVALID_CREDIT_CODE", why
    assert exc.value.status == 422

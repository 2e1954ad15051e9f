"""ID numbers, phones: validation, masking, encryption at rest."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from fengqiao.core.pii import (
    blind_index,
    decrypt,
    encrypt,
    id_check_digit,
    mask_id_number,
    mask_phone,
    validate_id_number,
    validate_phone,
)


@pytest.mark.parametrize("good", ["11010519491231002X", "110105194912310029"[:-1] + "X"])
def test_known_valid_id_number(good):
    assert validate_id_number(good.lower()) == good.upper()


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ("110105194912310021", "id_check"),  # wrong check digit
        ("110105194913310029", "id_birth"),  # month 13
        ("11010519491231002", "id_format"),  # 17 characters
        ("1101051949123100AX", "id_format"),
        ("110105210012310027", "id_birth"),  # born in 2100
    ],
)
def test_invalid_id_numbers_are_refused_with_a_reason(bad, code):
    with pytest.raises(ValidationError) as exc:
        validate_id_number(bad)
    assert exc.value.code == code


@given(
    region=st.integers(110000, 659999),
    born=st.dates(
        min_value=__import__("datetime").date(1900, 1, 1),
        max_value=__import__("datetime").date(2020, 12, 31),
    ),
    serial=st.integers(0, 999),
)
def test_every_number_with_its_computed_check_digit_validates(region, born, serial):
    first17 = f"{region}{born:%Y%m%d}{serial:03d}"
    number = first17 + id_check_digit(first17)
    assert validate_id_number(number) == number
    wrong = first17 + ("0" if number[-1] != "0" else "1")
    with pytest.raises(ValidationError):
        validate_id_number(wrong)


@pytest.mark.parametrize(
    "phone", ["13812345678", "+86 138 1234 5678", "0731-88889999", "01088889999"]
)
def test_valid_phones(phone):
    assert validate_phone(phone)


@pytest.mark.parametrize("phone", ["12345", "23812345678", "1381234567", "abc", "0731-123"])
def test_invalid_phones(phone):
    with pytest.raises(ValidationError):
        validate_phone(phone)


def test_masks():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("430102199001011234") == "430***********1234"
    assert mask_phone("") == ""


def test_encryption_round_trip_and_ciphertext_differs():
    token = encrypt("13812345678")
    assert "13812345678" not in token
    assert decrypt(token) == "13812345678"
    assert encrypt("13812345678") != token  # random IV: equal values do not leak
    assert blind_index("phone", "13812345678") == blind_index("phone", "13812345678")

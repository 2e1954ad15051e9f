"""Personal data: validation (GB 11643, phones), encryption at rest, masking, blind index."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normalize_id_number(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def id_check_digit(first17: str) -> str:
    """Return the GB 11643-1999 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_id_number(value: str) -> str:
    """Return the normalised resident ID number, or raise with a Chinese message."""
    v = normalize_id_number(value)
    if not _ID_RE.match(v):
        raise ValidationError(
            _("身份证号码应为18位，前17位为数字，最后一位为数字或X。"), code="id_format"
        )
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="id_birth") from None
    if born > date.today() or born.year < 1890:
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="id_birth")
    if id_check_digit(v[:17]) != v[17]:
        raise ValidationError(_("身份证号码校验位不正确，请核对。"), code="id_check")
    return v


def normalize_phone(value: str) -> str:
    v = re.sub(r"[\s()（）]", "", value.strip())
    if v.startswith("+86"):
        v = v[3:]
    elif v.startswith("0086"):
        v = v[4:]
    return v


def validate_phone(value: str) -> str:
    """Return a normalised mainland mobile or landline number, or raise."""
    v = normalize_phone(value)
    if _MOBILE_RE.match(v) or _LANDLINE_RE.match(v):
        return v
    raise ValidationError(
        _("电话号码格式不正确：手机为1开头的11位数字，座机如 0731-88889999。"), code="phone"
    )


def _mask(value: str) -> str:
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_id_number(value: str) -> str:
    """Return 430***********1234 for an 18-digit number."""
    return _mask(value or "")


def mask_phone(value: str) -> str:
    """Return 138****5678 for a mobile, 073*****9999 for a landline."""
    return _mask(value or "")


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])


def encrypt(value: str) -> str:
    return _fernet(settings.FENGQIAO_FIELD_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.FENGQIAO_FIELD_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("Personal data cannot be decrypted with FENGQIAO_FIELD_KEY.") from exc


def blind_index(kind: str, value: str) -> str:
    """Return a keyed digest, so equal values can be matched without being decrypted."""
    key = hashlib.sha256(("fengqiao-blind:" + settings.FENGQIAO_FIELD_KEY.split(",")[0]).encode())
    return hmac.new(key.digest(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


class EncryptedTextField(models.TextField):
    """Text stored as Fernet ciphertext; Python sees the plain value (never shown unmasked)."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

"""Every message of the interface has its English translation, and none is a guess."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(ROOT.glob("**/locale/en/LC_MESSAGES/django.po"))


def _entries(text: str) -> list[tuple[list[str], str, list[str]]]:
    """Split a .po file into (comments, msgid, msgstr values) per entry; header excluded."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        comments = [ln for ln in lines if ln.startswith("#")]
        if all(ln.startswith("#~") for ln in comments) and comments and len(comments) == len(lines):
            continue  # obsolete entry
        fields: dict[str, list[str]] = {}
        key = ""
        for ln in lines:
            if ln.startswith("#"):
                continue
            m = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+"(.*)"$', ln)
            if m:
                key = m.group(1)
                fields[key] = [m.group(2)]
            elif ln.startswith('"') and key:
                fields[key].append(ln.strip('"'))
        msgid = "".join(fields.get("msgid", []))
        if not msgid:
            continue
        values = ["".join(v) for k, v in fields.items() if k.startswith("msgstr")]
        out.append((comments, msgid, values))
    return out


def test_the_catalogues_are_found():
    assert len(CATALOGUES) >= 2


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_message_is_translated_and_none_is_fuzzy(path):
    missing, fuzzy = [], []
    for comments, msgid, values in _entries(path.read_text(encoding="utf-8")):
        if any(c.startswith("#,") and "fuzzy" in c for c in comments):
            fuzzy.append(msgid)
        if not values or not all(values):
            missing.append(msgid)
    assert missing == [] and fuzzy == []

"""One text normalisation for every search: traditional to simplified, then jieba."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba
from opencc import OpenCC

jieba.setLogLevel(logging.WARNING)
_t2s = OpenCC("t2s")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def to_simplified(text: str) -> str:
    """Return the text in simplified characters, lower-cased, with spaces folded."""
    return _SPACE.sub(" ", _t2s.convert(text or "")).strip().lower()


def search_document(*parts: str | None) -> str:
    """Return the indexable text of a record: simplified, plus its jieba search tokens."""
    text = to_simplified(" ".join(p for p in parts if p))
    tokens = {t.strip() for t in jieba.cut_for_search(text) if t.strip()}
    return text + " | " + " ".join(sorted(tokens))


def search_terms(query: str) -> list[str]:
    """Return the terms a query must all match, in simplified characters."""
    text = to_simplified(query)
    terms: list[str] = []
    for chunk in text.split(" "):
        if not chunk:
            continue
        # A short chunk is matched as typed; a long phrase is split by jieba into words.
        words = [w for w in jieba.cut(chunk) if w.strip()] if len(chunk) > 4 else [chunk]
        terms.extend(words)
    return terms[:8]

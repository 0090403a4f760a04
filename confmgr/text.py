"""Vietnamese text: normalising what people type and folding it for search."""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFC, every run of spaces (non-breaking ones too) as one space, no spaces at the ends.

    Text pasted from Word or Excel may be decomposed (NFD) or carry odd spaces; two
    spellings of one name must compare equal.
    """
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """Lower case without diacritics, so "uong bi" finds "Uông Bí" and "dong" finds "Đồng"."""
    decomposed = unicodedata.normalize("NFD", normalise(text).replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()

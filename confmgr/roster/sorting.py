"""Vietnamese alphabetical order (CLDR "vi"), as official delegate lists are sorted.

Letters: a < ă < â < b < c < d < đ < e < ê < … < o < ô < ơ < … < u < ư < v < x < y; tone
marks only break ties: none < huyền < hỏi < ngã < sắc < nặng, each word's read where the
compare form puts it (on its last vowel), so that the two accepted spellings of a name
("Hòa" and "Hoà", "Thủy" and "Thuỷ") sort as one, between "Hoa" and "Hóa". Lists sort by
the given name (tên), then the family name (họ), then the middle names (tên đệm).

The key is bytes, so the database can sort by it: SQLite and PostgreSQL both compare bytes
as bytes, whatever their text collation.
"""
from __future__ import annotations

import unicodedata

from confmgr.text import name_compare_form, normalise

ALPHABET = "a ă â b c d đ e ê f g h i j k l m n o ô ơ p q r s t u ư v w x y z".split()
#: Each letter's rank, from 0x20 upwards; lower bytes are kept for separators.
LETTER_RANK = {letter: 0x20 + index for index, letter in enumerate(ALPHABET)}
TONE_RANK = {"": 1, "\u0300": 2, "\u0309": 3, "\u0303": 4, "\u0301": 5, "\u0323": 6}
LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter

FIELD_END = b"\x01"
TONES_FOLLOW = b"\x02"
SPACE = 0x03
OTHER = 0x04
DIGIT = 0x05  # digits take 0x05–0x0e


def _letters(word: str) -> tuple[bytes, bytes]:
    """Primary bytes (letters) and secondary bytes (tones) of one name part."""
    primary = bytearray()
    tones = bytearray()
    for char in name_compare_form(word):
        if char == " ":
            primary.append(SPACE)
            tones.append(TONE_RANK[""])
            continue
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize(
            "NFC", "".join(c for c in parts if c not in TONE_RANK or c in LETTER_MARKS)
        )
        tone = next((c for c in parts if c in TONE_RANK and c), "")
        if base in LETTER_RANK:
            primary.append(LETTER_RANK[base])
        elif base.isdigit() and len(base) == 1 and base.isascii():
            primary.append(DIGIT + int(base))
        else:
            primary.append(OTHER)
        tones.append(TONE_RANK[tone])
    return bytes(primary), bytes(tones)


def split_name(full_name: str) -> tuple[str, str, str]:
    """(họ, tên đệm, tên) of a Vietnamese full name: the first word, the middle, the last."""
    words = normalise(full_name).split(" ")
    if len(words) == 1:
        return "", "", words[0]
    return words[0], " ".join(words[1:-1]), words[-1]


def name_key(full_name: str) -> bytes:
    """Sorts by tên, then họ, then tên đệm, each letters first and tones after."""
    family, middle, given = split_name(full_name)
    key = bytearray()
    for part in (given, family, middle):
        primary, tones = _letters(part)
        key += primary + TONES_FOLLOW + tones + FIELD_END
    return bytes(key)


def text_key(text: str) -> bytes:
    """Vietnamese order of a text as written (a presenter's name after their title, a
    place): letters first, then tones."""
    primary, tones = _letters(text)
    return primary + TONES_FOLLOW + tones

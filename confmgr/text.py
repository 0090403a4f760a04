"""Vietnamese text: normalising what people type, folding it for search; fingerprints of data."""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any

_SPACES = re.compile(r"\s+")
#: Control characters that are not spaces: never meant, and NUL cannot even be stored.
#: With them the invisible ones pasted from web pages and chat apps (soft hyphen,
#: zero-width spaces and joiners, the byte order mark) and the direction marks, embeddings
#: and isolates phones wrap copied numbers and contacts in: Vietnamese uses none, and the
#: same name with one of them would be another name.
INVISIBLE = ("\u00ad\u200b\u200c\u200d\u2060\ufeff"
             "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_CONTROLS = re.compile(f"[\\x00-\\x08\\x0e-\\x1f\\x7f{INVISIBLE}]")


def normalise(text: str) -> str:
    """NFC, every run of spaces (non-breaking ones too) as one space, no spaces at the ends.

    Text pasted from Word or Excel may be decomposed (NFD) or carry odd spaces, control or
    invisible characters; two spellings of one name must compare equal.
    """
    text = unicodedata.normalize("NFC", text).translate(_LOOKALIKES)
    return _SPACES.sub(" ", _CONTROLS.sub("", text)).strip()


def normalise_lines(text: str) -> str:
    """``normalise`` for text of several lines (a question, an answer): each line on its
    own, the line breaks kept (Word's soft one too), blank lines neither at the ends nor
    two in a row."""
    lines = "\n".join(normalise(line) for line in plain_text(text).split("\n"))
    return _BLANK_LINES.sub("\n\n", lines).strip("\n")


_BLANK_LINES = re.compile(r"\n{3,}")


#: Letters that look like Vietnamese ones and get typed for them: the Icelandic eth "Ð"
#: (U+00D0) for "Đ" (U+0110), from some keyboards and fonts. Vietnamese never uses eth.
_LOOKALIKES = str.maketrans({"Ð": "Đ", "ð": "đ"})


def fold(text: str) -> str:
    """Lower case without diacritics, so "uong bi" finds "Uông Bí" and "dong" finds "Đồng"."""
    decomposed = unicodedata.normalize("NFD", normalise(text).replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


#: The five tone marks (huyền, sắc, ngã, hỏi, nặng) as combining characters.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


def name_compare_form(name: str) -> str:
    """A name in lower case with each word's tone mark on its last vowel: two spellings of
    one name compare equal.

    Vietnamese writes a tone in two accepted places ("Hoà" and "Hòa", "Thuỷ" and "Thủy"),
    and lists from different offices use either; a delegate must not be registered twice
    because of it. Nor because of the apostrophe of an Ê Đê or Gia Rai name ("H'Hen Niê"),
    which Word turns into a typographic one.
    """
    words = normalise(name).translate(APOSTROPHES).lower().split(" ")
    return " ".join(_tone_on_last_vowel(word) for word in words)


#: The apostrophes names are written with, as one.
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def name_fold(name: str) -> str:
    """A name as it reads without its marks ("nguyen van an" for "Nguyễn Văn An"), with
    one apostrophe: what a name typed on a keyboard without Vietnamese is compared by."""
    return fold(name.translate(APOSTROPHES))


def _tone_on_last_vowel(word: str) -> str:
    letters = list(unicodedata.normalize("NFD", word))
    tones = [c for c in letters if c in _TONES]
    if len(tones) != 1:
        return word
    letters = [c for c in letters if c not in _TONES]
    vowels = [i for i, c in enumerate(letters) if c in "aeiouy"]
    if not vowels:
        return word
    at = vowels[-1] + 1
    while at < len(letters) and unicodedata.combining(letters[at]):  # after ^, ˘ and ơ's horn
        at += 1
    letters.insert(at, tones[0])
    return unicodedata.normalize("NFC", "".join(letters))


_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


def whole_number(text: str) -> int | None:
    """A whole number typed in ASCII digits (at most nine), else None.

    ``str.isdigit`` also accepts "²" and other digits ``int`` refuses, and an id of thirty
    digits overflows a database integer: both would end in a server error.
    """
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


#: Digits, in groups of three after the first as Vietnamese writes thousands ("1.200",
#: "1 200"); a comma is a decimal point there, so "1,200" is no whole number.
_COUNT = re.compile(r"[0-9]{1,30}|[0-9]{1,3}(?:[. \u00a0][0-9]{3}){1,9}")


def count_typed(text: str) -> int | None:
    """A number of people as typed, thousands grouped or not, else None. Not bounded:
    the caller names its limit rather than calling a long number no number."""
    return int(re.sub(r"[. \u00a0]", "", text)) if _COUNT.fullmatch(text) else None


#: Control characters XML 1.0 and iCalendar TEXT cannot carry (and the two non-characters
#: and the lone surrogates, which UTF-8 cannot encode, XML forbids); tab and line breaks stay.
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def one_line(text: str) -> str:
    """A one-line field's text: tabs and line breaks as spaces, no other control character."""
    return _CONTROLS.sub("", _BREAKS.sub(" ", text))


_BREAKS = re.compile(r"[\t\n\x0b\x0c\r]")


def plain_text(text: str) -> str:
    """Multi-line text as XML and calendars take it: every line break (Word's soft one too)
    a "\\n", no other control character.

    Stored text may hold what an old import or an API client let through; one stray
    character would make a whole schedule unreadable.
    """
    # Word's soft line break (\v) is a line break too.
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\v", "\n")
    return _TEXT_CONTROLS.sub("", text)


#: Spaces and control characters: none belongs in a link, and a line break in one would
#: end the calendar property that carries it.
_NOT_IN_LINKS = re.compile(r"[\s\x00-\x1f\x7f]")


def has_space_or_control(text: str) -> bool:
    return _NOT_IN_LINKS.search(text) is not None


def fingerprint(value: Any) -> str:
    """A digest of JSON-able data, equal for equal data whatever the order of its keys: what
    a page showed, or a request sent, told from what is there now."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()
                          ).hexdigest()

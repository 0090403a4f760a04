"""The base of every form: Flask-WTF's, with WTForms' own messages in Vietnamese too."""
from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from babel.support import Translations
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, TextAreaField

from confmgr.text import one_line, plain_text

CATALOGUES = Path(__file__).parent / "translations"


@cache
def wtforms_translations(locale: str) -> Translations:
    # WTForms ships no Vietnamese catalogue; ours is translations/vi/…/wtforms.po.
    # English needs none: the messages are written in English.
    return Translations.load(str(CATALOGUES), [locale], domain="wtforms")


def _text_filter(clean):
    # NFC first, as everything is stored: a field's length limit then counts the text as
    # it will be kept, not the decomposed letters some keyboards type (Unikey's "Unicode
    # tổ hợp" spends two or three code points on "ễ").
    return lambda value: clean(unicodedata.normalize("NFC", value)) \
        if isinstance(value, str) else value


#: What every text field's input loses: control characters (a pasted vertical tab from Word
#: would make an Atom feed or a calendar unreadable later), and in one-line fields the line
#: breaks; and it is composed (NFC). Passwords are compared as typed.
_ONE_LINE = _text_filter(one_line)
_MULTI_LINE = _text_filter(plain_text)


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return wtforms_translations(str(get_locale()))

        def bind_field(self, form, unbound_field, options):
            kind = unbound_field.field_class
            if issubclass(kind, StringField) and not issubclass(kind, PasswordField):
                # A hidden field carries back what a page showed, line breaks and all.
                multi_line = issubclass(kind, (TextAreaField, HiddenField))
                clean = _MULTI_LINE if multi_line else _ONE_LINE
                options["filters"] = (clean, *unbound_field.kwargs.get("filters", ()))
            return unbound_field.bind(form=form, **options)

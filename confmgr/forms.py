"""The base of every form: Flask-WTF's, with WTForms' own messages in Vietnamese too."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import Translations
from flask_babel import get_locale
from flask_wtf import FlaskForm

CATALOGUES = Path(__file__).parent / "translations"


@cache
def wtforms_translations(locale: str) -> Translations:
    # WTForms ships no Vietnamese catalogue; ours is translations/vi/…/wtforms.po.
    # English needs none: the messages are written in English.
    return Translations.load(str(CATALOGUES), [locale], domain="wtforms")


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return wtforms_translations(str(get_locale()))

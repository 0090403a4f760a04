"""Ways to subscribe to a feed: webcal, Google, Outlook and a QR code for phones."""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlencode

import segno
from flask import request, url_for
from markupsafe import Markup

from confmgr.text import whole_number


@dataclass(frozen=True)
class Subscription:
    name: str
    #: The feed over HTTP(S): downloads and clients that take a plain address.
    url: str

    @property
    def webcal(self) -> str:
        # Calendar apps register webcal:// so that a tap subscribes instead of importing once.
        return "webcal://" + self.url.split("://", 1)[1]

    @property
    def google(self) -> str:
        return "https://calendar.google.com/calendar/render?cid=" + quote(self.webcal, safe="")

    @property
    def outlook(self) -> str:
        return "https://outlook.live.com/calendar/0/addfromweb?" + urlencode(
            {"url": self.url, "name": self.name})

    @property
    def office365(self) -> str:
        return "https://outlook.office.com/calendar/0/addfromweb?" + urlencode(
            {"url": self.url, "name": self.name})

    @property
    def qr_svg(self) -> Markup:
        return qr_svg(self.webcal)


@lru_cache(maxsize=512)
def qr_svg(data: str) -> Markup:
    """An inline SVG QR code; inline so the page needs no extra request or script."""
    out = io.BytesIO()
    segno.make(data, error="m").save(
        out, kind="svg", scale=3, border=2, xmldecl=False, svgns=True, nl=False,
        svgclass="qr-code", title="QR", dark="#000", light="#fff",
    )
    return Markup(out.getvalue().decode("utf-8"))


def requested_alarm() -> int | None:
    """The reminder chosen on a page (``?alarm=``), or None; pages ignore other values."""
    from confmgr.calendar.feeds import ALARM_CHOICES

    value = request.args.get("alarm", "")
    return whole_number(value) if whole_number(value) in ALARM_CHOICES else None


def subscription(name: str, endpoint: str, **values) -> Subscription:
    """How to subscribe to the feed at ``endpoint``, with the reminder the page asks for."""
    return Subscription(name, url_for(endpoint, alarm=requested_alarm(), _external=True,
                                      **values))


def private_subscription(kind, conference, name: str, **owner):
    """The owner's secret feed address (issued on first use) and its token; the caller commits."""
    from confmgr.calendar.tokens import active_token

    token = active_token(kind, conference, **owner)
    return subscription(name, "calendar.token_feed", token=token.token), token

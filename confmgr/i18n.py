"""Languages (Vietnamese first, English second) and Vietnamese date conventions."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    current_app,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from babel.numbers import format_decimal
from flask_babel import get_locale, lazy_gettext as _l, ngettext
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from confmgr.attendance.labels import (
    ATTENDANCE_BUTTON_LABELS,
    ATTENDANCE_LABELS,
    ATTENDANCE_STYLES,
    METHOD_LABELS,
    NO_CATEGORY_NAME,
)
from confmgr.conferences.labels import (
    CHANGE_LABELS,
    CONFERENCE_STATUS_LABELS,
    SESSION_KIND_LABELS,
)
from confmgr.extensions import babel
from confmgr.points.labels import (
    NO_PROVINCE_NAME,
    POINT_LEVEL_LABELS,
    PROGRESS_LABELS,
    TEST_STATUS_LABELS,
)
from confmgr.questions.labels import QUESTION_STATUS_COLOURS, QUESTION_STATUS_LABELS

bp = Blueprint("i18n", __name__)

WEEKDAYS = (
    _l("Thứ Hai"),
    _l("Thứ Ba"),
    _l("Thứ Tư"),
    _l("Thứ Năm"),
    _l("Thứ Sáu"),
    _l("Thứ Bảy"),
    _l("Chủ nhật"),
)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue where it is kept untranslated (in a document
    built once); it is translated where it is shown."""
    return message


def counted(message: str, number: int, **variables) -> str:
    """A message about ``number`` things, in the current language.

    Vietnamese nouns do not change with the number, so the source message is both the
    singular and the plural; the English catalogue gives one form for 1 and another for the
    rest ("1 question", "2 questions"). Extracted with ``-k counted:1,1``. ``number`` fills
    ``%(count)d`` unless ``variables`` give ``count`` (say, as a formatted number).
    """
    variables.setdefault("count", number)
    return ngettext(message, message, number, **variables)


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]
    # The API's reference is a page people read in a browser: it follows the language chosen
    # on the site. Every other API address answers programs, which have no session and say
    # what they read in Accept-Language.
    if request.path.startswith("/api/") and request.endpoint != "api.docs":
        return request.accept_languages.best_match(languages) or languages[0]
    chosen = session.get("lang")
    return chosen if chosen in languages else languages[0]


def data_lang() -> Markup:
    """` lang="vi"` for an element holding what people typed (titles, names, places) on a
    page in another language: the data of these conferences is Vietnamese, and a screen
    reader reading it with an English voice makes it unintelligible. Nothing on a
    Vietnamese page, which says so once."""
    return Markup("") if str(get_locale()) == "vi" else Markup(' lang="vi"')


def init_app(app: Flask) -> None:
    from confmgr.conferences.scheduling import bare_topic_number

    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters.update(
        day=format_day, days=format_days, time=format_time, datetime=format_datetime,
        number=format_number,
        local=to_local, zone_label=zone_label,
        # A topic saved before numbers were stored bare may still carry "Chuyên đề".
        topic_number=bare_topic_number,
    )
    app.jinja_env.globals.update(
        current_language=lambda: str(get_locale()),
        data_lang=data_lang,
        counted=counted,
        session_kind_labels=SESSION_KIND_LABELS,
        # Resolved once per page: lazy strings cost a catalogue lookup at every use.
        resolved_kind_labels=lambda: resolved_labels(SESSION_KIND_LABELS),
        change_labels=CHANGE_LABELS,
        point_level_labels=POINT_LEVEL_LABELS,
        test_status_labels=TEST_STATUS_LABELS,
        progress_labels=PROGRESS_LABELS,
        resolved_labels=resolved_labels,
        conference_status_labels=CONFERENCE_STATUS_LABELS,
        attendance_labels=ATTENDANCE_LABELS,
        attendance_button_labels=ATTENDANCE_BUTTON_LABELS,
        attendance_styles=ATTENDANCE_STYLES,
        no_category_name=NO_CATEGORY_NAME,
        no_province_name=NO_PROVINCE_NAME,
        method_labels=METHOD_LABELS,
        question_status_labels=QUESTION_STATUS_LABELS,
        question_status_colours=QUESTION_STATUS_COLOURS,
    )


_RESOLVED: dict[tuple[int, str], dict] = {}


def resolved_labels(labels: dict) -> dict:
    """A dict of lazy labels as plain strings in the current language.

    Resolved once per process and language: a lazy string costs a catalogue lookup at every
    use, and the same few label dicts are used on every page.
    """
    key = (id(labels), str(get_locale()))
    if key not in _RESOLVED:
        _RESOLVED[key] = {name: str(label) for name, label in labels.items()}
    return _RESOLVED[key]


def format_day(value: date) -> str:
    """'Thứ Bảy, 14/06/2025': weekday, then dd/mm/yyyy as Vietnamese documents print it."""
    return f"{WEEKDAYS[value.weekday()]}, {value:%d/%m/%Y}"


def format_days(first: date, last: date) -> str:
    """"14/06/2025 – 15/06/2025", or "14/06/2025" for a conference of one day."""
    return f"{first:%d/%m/%Y}" if first == last else f"{first:%d/%m/%Y} – {last:%d/%m/%Y}"


def to_local(value: datetime | str, zone: str) -> datetime:
    """An instant (or its ISO text, as snapshots keep it) in a conference's time zone."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(ZoneInfo(zone))


def zone_label(zone: str, first_day: date, last_day: date | None = None) -> str:
    """"UTC+07:00 (Asia/Ho_Chi_Minh)": the offset on the days is what readers know; the
    IANA name alone says little to most of them. Days across a change of the clocks get
    each offset in turn: "UTC+02:00 / UTC+01:00 (Europe/Paris)"."""
    offsets: list[str] = []
    for number in range(((last_day or first_day) - first_day).days + 1):
        offset = datetime.combine(first_day + timedelta(days=number), time(12),
                                  ZoneInfo(zone)).strftime("%z")
        label = f"UTC{offset[:3]}:{offset[3:]}"
        if label not in offsets:
            offsets.append(label)
    return f"{' / '.join(offsets)} ({zone})"


def format_time(value: datetime) -> str:
    return f"{value:%H:%M}"


def format_datetime(value: datetime) -> str:
    return f"{value:%H:%M %d/%m/%Y}"


def format_number(value: int | float, locale: str | None = None) -> str:
    """1.441.200 in Vietnamese, 1,441,200 in English: in ``locale``, else the current
    language, else (outside the app, as in a file check) Vietnamese."""
    return format_decimal(value, locale=locale or get_locale() or "vi")


def safe_next_url(target: str | None, fallback: str) -> str:
    """Only follow a ``next`` that stays on this site, never an open redirect."""
    if not target:
        return fallback
    # Browsers drop tabs and line breaks from an address and read "\\" as "/", so
    # "/\t\\evil.example" would lead off the site (and a line break cannot go in a header).
    if "\\" in target or any(ch < " " or ch == "\x7f" for ch in target):
        return fallback
    parts = split_address(target)
    if (parts is None or parts.scheme or parts.netloc or not target.startswith("/")
            or target[1:2] == "/"):
        return fallback
    return target


def split_address(address: str) -> SplitResult | None:
    """``address``'s parts, or None where no parser reads its host ("//[", "http://[x")."""
    try:
        return urlsplit(address)
    except ValueError:
        return None


def readable(target: str) -> str:
    """``target``, or the nearest address above it that a browser may GET: a form shown
    again after a refused POST stands at the address it was sent to, which only takes
    POST ("…/attendance/5/headcount" leads to "…/attendance")."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    parts = urlsplit(target)
    path, query = parts.path, parts.query
    while path != "/":
        try:
            adapter.match(path, method="GET")
        except MethodNotAllowed:  # "/language" and "/logout" lead to the home page
            path, query = path.rsplit("/", 1)[0] or "/", ""
            continue
        except HTTPException:
            pass  # a redirect or a 404: the address answers for itself
        break
    return path + (f"?{query}" if query else "")


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(readable(safe_next_url(request.form.get("next"), url_for("public.index"))))

"""Dates and times as users read them: in the deployment's time zone and the user's locale.

Never an all-numeric short form ("12/4/26" reads as two different days in London and New York):
dates have the month in words ("5 Dec 2026", "5 déc. 2026"), times follow the locale's clock
("14:30", or "2:30 PM" for a browser that asks for American English). The region comes from the
browser's Accept-Language when it names one for the chosen language, else the default below.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from flask import Flask, g, request

from databank.web.deployment import local_zone
from databank.web.i18n import select_locale

# A bare "en" is American usage in the CLDR; the databank's users are mostly European.
DEFAULT_REGIONS = {"en": "en_GB", "fr": "fr_FR"}


def date_locale() -> Locale:
    """The user's language, in the region their browser names for it (else its default)."""
    language = select_locale()
    found: Locale | None = g.get("date_locale")
    if found is None or found.language != language:  # once per request (or language switch)
        found = g.date_locale = _date_locale(language)
    return found


def _date_locale(language: str) -> Locale:
    for value, _quality in request.accept_languages:
        try:
            found = Locale.parse(value, sep="-")
        except (ValueError, TypeError, UnknownLocaleError):
            continue
        if found.language == language and found.territory:
            return found
    return Locale.parse(DEFAULT_REGIONS.get(language, language))


def to_local(value: datetime, utc: bool = False) -> datetime:
    """A stored moment in the deployment's zone (in UTC if it cannot be carried there)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        return aware.astimezone(UTC if utc else local_zone())
    except OverflowError:  # stored before plausible dates were checked (9999-12-31 in UTC+1)
        return aware.astimezone(UTC)


def format_date(value: date | datetime | None, width: str = "medium") -> str:
    """A day in words ('medium' or 'long'); a time stamp's day in the deployment's zone."""
    if value is None:
        return ""
    if width not in ("medium", "long", "full"):
        raise ValueError("dates are shown with the month in words: medium, long or full")
    day = to_local(value).date() if isinstance(value, datetime) else value
    return babel_dates.format_date(day, width, locale=date_locale())


def format_datetime(value: datetime | None, *, seconds: bool = False, utc: bool = False) -> str:
    """A day and a time of day in the deployment's zone: "5 Dec 2026, 14:30" (":05" seconds).

    `utc`: in UTC, said so ("5 Dec 2026, 13:30:05 UTC"), as the audit console shows times, the
    same as its date filters, exports and signed checkpoints.
    """
    if value is None:
        return ""
    locale = date_locale()
    local = to_local(value, utc)
    day = babel_dates.format_date(local.date(), "medium", locale=locale)
    clock = babel_dates.format_time(local.time(), "medium" if seconds else "short", locale=locale)
    glue = babel_dates.get_datetime_format("medium", locale=locale)
    shown = str(glue).replace("'", "").replace("{0}", clock).replace("{1}", day)
    return f"{shown} UTC" if utc else shown


def init_app(app: Flask) -> None:
    """Every template formats dates and times with these two."""
    app.jinja_env.globals.update(format_date=format_date, format_datetime=format_datetime)

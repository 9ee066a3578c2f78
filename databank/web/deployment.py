"""The deployment's areas and time zone, read from the app's settings (configuration, not code)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app

from databank.config import Settings
from databank.domain import geo
from databank.domain.areas import CELL_LENGTH, Area, Areas


def settings() -> Settings:
    found: Settings = current_app.config["DATABANK_SETTINGS"]
    return found


def areas() -> Areas:
    """The deployment's areas (DATABANK_AREAS_FILE), loaded and checked at start-up."""
    return settings().areas


def local_zone() -> ZoneInfo:
    """The deployment's time zone (DATABANK_TIME_ZONE): times typed and shown are in it."""
    return settings().zone


def area(code: str) -> Area | None:
    """The area of a code a form or a filter sent; None if the deployment has no such area."""
    return areas().get(code) if code else None


def choices(language: str | None) -> list[tuple[str, str]]:
    """(code, name) of every area, in the language, sorted by name: a picker's options."""
    named = [(a.code, a.name_in(language)) for a in areas().areas]
    return sorted(named, key=lambda pair: pair[1].casefold())


def centred_in(geohash: str | None, language: str | None) -> str:
    """The areas whose centre lies in a released district-or-finer cell, in words ('' if none):
    how outreach pages name a stored district."""
    if not geohash or len(geohash) < CELL_LENGTH:
        return ""
    cell = geohash[:CELL_LENGTH].lower()
    return " / ".join(a.name_in(language) for a in areas().areas if a.cell == cell)


def nearest_name(geohash: str | None, language: str | None) -> str:
    """The area whose centre is nearest a released district-or-finer cell's centre ('' for a
    coarser one): how a case page names where it is."""
    if not geohash or len(geohash) < CELL_LENGTH:
        return ""
    lat, lon = geo.decode(geohash[:CELL_LENGTH])
    return areas().nearest(lat, lon).name_in(language)


def one_area_name(
    geohash: str | None,
    language: str | None,
    point: tuple[float, float] | None = None,
    picked: str | None = None,
) -> str:
    """One area, in words, for a released place (never a list of neighbours, never a code).

    The area the worker picked (a district chosen without a point); else the one holding the
    point (the plan's rule: the nearest centre, as the page said when it was set); else, for a
    district cell, the one area centred in it, or the area nearest its centre when several
    share it; for a coarser place, the deployment's own name ('' without any place).
    """
    if picked and (chosen := areas().get(picked)) is not None:
        return chosen.name_in(language)
    if point is None and geohash and len(geohash) > CELL_LENGTH:
        point = geo.decode(geohash)
    if point is not None:
        return areas().nearest(*point).name_in(language)
    if not geohash:
        return ""
    if len(geohash) < CELL_LENGTH:
        return areas().name_in(language)
    cell = geohash[:CELL_LENGTH].lower()
    centred = [a for a in areas().areas if a.cell == cell]
    if len(centred) == 1:
        return centred[0].name_in(language)
    return nearest_name(geohash, language)

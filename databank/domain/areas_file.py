"""Reading a deployment's areas file (YAML), checked on load, each error naming its field.

The file (see databank/demo/areas/lyon.yaml, the demo's)::

    name: Lyon                       # the deployment's place: text, or {en: ..., fr: ...}
    plan: {south: 45.685, west: 4.77, north: 45.815, east: 4.96}   # optional: the box drawn
    areas:
      - code: lyon-1                 # lower-case letters, digits, '-' or '_': sent by forms
        name: Lyon 1er               # text, or one per language: {en: ..., fr: ...}
        label: 1er                   # optional: the short text drawn on the plan
        centre: {lat: 45.7699, lon: 4.8292}
        cells: [u05km]               # the geohash-5 cells the area holds, including the
                                     # centre's; or boundary: [[lat, lon], ...], a polygon
                                     # that resolves to the cells whose centre it holds
        demo: {weight: 8, landmarks: [la place des Terreaux]}   # optional, for the demo only
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from databank.domain import geo
from databank.domain.areas import (
    CELL_LENGTH,
    Area,
    Areas,
    Box,
    Names,
    box_around,
    cells_in_boundary,
    point_in_polygon,
)
from databank.domain.errors import ConfigurationError

_CODE = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?")
_AREA_FIELDS = {"code", "name", "label", "centre", "cells", "boundary", "demo"}


class _Invalid(Exception):
    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)


def _at(where: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{where}[{name}]"
    return f"{where}.{name}" if where else name


def load_areas(path: Path) -> Areas:
    """The areas of the file; ConfigurationError naming the file and the field at fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"areas file {path}: cannot be read ({error})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigurationError(f"areas file {path}: not valid YAML{where}") from None
    return parse_areas(data, str(path))


def parse_areas(data: object, source: str = "areas file") -> Areas:
    """The areas a parsed file describes; ConfigurationError naming the field at fault."""
    try:
        return _areas(data, source)
    except _Invalid as invalid:
        raise ConfigurationError(f"areas file {source}: {invalid}") from None


def _areas(data: object, source: str) -> Areas:
    top = _fields(data, "", {"name", "plan", "areas"}, {"name", "areas"})
    names = _names(top["name"], "name")
    listed = top["areas"]
    if not isinstance(listed, list) or not listed:
        raise _Invalid("areas", "must list at least one area")
    areas: list[Area] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(listed):
        area = _area(raw, _at("areas", index))
        if area.code in seen:
            where = _at(_at("areas", index), "code")
            raise _Invalid(where, f"{area.code!r} is already the code of {seen[area.code]}")
        seen[area.code] = _at("areas", index)
        areas.append(area)
    if "plan" in top:
        box = _box(top["plan"], "plan")
        for index, area in enumerate(areas):
            if not box.holds(area.lat, area.lon):
                raise _Invalid("plan", f"does not hold the centre of areas[{index}] ({area.code})")
    else:
        box = box_around([(a.lat, a.lon) for a in areas])
    return Areas(names, tuple(areas), box, source)


def _fields(value: object, where: str, known: set[str], required: set[str]) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _Invalid(where, "must be a mapping of fields (name: value)")
    for key in value:
        if key not in known:
            expected = ", ".join(sorted(known))
            raise _Invalid(_at(where, str(key)), f"is not a known field (known: {expected})")
    for key in sorted(required):
        if key not in value:
            raise _Invalid(_at(where, key), "is required")
    return {str(k): v for k, v in value.items()}


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(where, "must be some text (quote it if YAML reads it as something else)")
    return value.strip()


def _number(value: object, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Invalid(where, "must be a number")
    if not low <= value <= high:
        raise _Invalid(where, f"must be between {low:g} and {high:g}")
    return float(value)


def _names(value: object, where: str) -> Names:
    if isinstance(value, Mapping):
        if not value:
            raise _Invalid(where, "must give a name")
        pairs = []
        for language, name in value.items():
            if not isinstance(language, str) or not _LANGUAGE.fullmatch(language):
                raise _Invalid(_at(where, str(language)), "is not a language code (en, fr, ...)")
            pairs.append((language, _text(name, _at(where, language))))
        return tuple(pairs)
    return (("", _text(value, where)),)


def _point(value: object, where: str) -> tuple[float, float]:
    if isinstance(value, Mapping):
        fields = _fields(dict(value), where, {"lat", "lon"}, {"lat", "lon"})
        lat, lon = fields["lat"], fields["lon"]
        return _number(lat, _at(where, "lat"), -90, 90), _number(lon, _at(where, "lon"), -180, 180)
    if not isinstance(value, list) or len(value) != 2:
        raise _Invalid(where, "must be a point: [lat, lon] or {lat: ..., lon: ...}")
    return _number(value[0], _at(where, 0), -90, 90), _number(value[1], _at(where, 1), -180, 180)


def _area(value: object, where: str) -> Area:
    fields = _fields(value, where, _AREA_FIELDS, {"code", "name", "centre"})
    code = _text(fields["code"], _at(where, "code"))
    if len(code) > 40 or not _CODE.fullmatch(code):
        raise _Invalid(
            _at(where, "code"), "must be up to 40 lower-case letters or digits, joined by - or _"
        )
    where = f"{where} ({code})"
    lat, lon = _point(fields["centre"], _at(where, "centre"))
    centre_cell = geo.encode(lat, lon, CELL_LENGTH)
    if ("cells" in fields) == ("boundary" in fields):
        raise _Invalid(where, "needs either cells or boundary (one of them)")
    if "cells" in fields:
        cells = _cells(fields["cells"], _at(where, "cells"))
        if centre_cell not in cells:
            raise _Invalid(
                _at(where, "cells"), f"must include {centre_cell}, the cell of the centre"
            )
    else:
        cells = _boundary(fields["boundary"], _at(where, "boundary"), (lat, lon))
    weight, landmarks = _demo(fields.get("demo"), _at(where, "demo"))
    label = _text(fields["label"], _at(where, "label")) if "label" in fields else ""
    names = _names(fields["name"], _at(where, "name"))
    return Area(code, names, lat, lon, cells, label, weight, landmarks)


def _cells(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _Invalid(where, "must list at least one geohash-5 cell")
    cells = set()
    for index, raw in enumerate(value):
        cell = _text(raw, _at(where, index)).lower()
        if len(cell) != CELL_LENGTH or not set(cell) <= set(geo.BASE32):
            problem = f"{cell!r} is not a geohash of {CELL_LENGTH} characters"
            raise _Invalid(_at(where, index), problem)
        cells.add(cell)
    return tuple(sorted(cells))


def _boundary(value: object, where: str, centre: tuple[float, float]) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) < 3:
        raise _Invalid(where, "must list at least three corners [lat, lon]")
    polygon = [_point(corner, _at(where, index)) for index, corner in enumerate(value)]
    if not point_in_polygon(*centre, polygon):
        raise _Invalid(where, "does not hold the area's centre")
    try:
        inside = cells_in_boundary(polygon)
    except ValueError as error:
        raise _Invalid(where, str(error)) from None
    return tuple(sorted({*inside, geo.encode(*centre, CELL_LENGTH)}))


def _demo(value: object, where: str) -> tuple[float, tuple[str, ...]]:
    if value is None:
        return 1.0, ()
    fields = _fields(value, where, {"weight", "landmarks"}, set())
    weight = _number(fields.get("weight", 1), _at(where, "weight"), 0, 1_000_000)
    if weight <= 0:
        raise _Invalid(_at(where, "weight"), "must be more than 0")
    raw = fields.get("landmarks", [])
    if not isinstance(raw, list):
        raise _Invalid(_at(where, "landmarks"), "must be a list of place names")
    landmarks = tuple(_text(v, _at(_at(where, "landmarks"), i)) for i, v in enumerate(raw))
    return weight, landmarks


def _box(value: object, where: str) -> Box:
    sides = {"south", "west", "north", "east"}
    fields = _fields(value, where, sides, sides)
    south = _number(fields["south"], _at(where, "south"), -90, 90)
    north = _number(fields["north"], _at(where, "north"), -90, 90)
    west = _number(fields["west"], _at(where, "west"), -180, 180)
    east = _number(fields["east"], _at(where, "east"), -180, 180)
    if south >= north:
        raise _Invalid(where, "south must be below north")
    if west >= east:
        raise _Invalid(where, "west must be left of east")
    return Box(south, west, north, east)

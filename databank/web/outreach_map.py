"""The plan of the deployment's areas drawn as SVG: no tiles, no internet, a linear projection.

Each area is drawn as the part of the box nearer to its centre than to any other (a Voronoi
cell), which is how the plan names the area of a tapped point (Areas.nearest, and map.js). It is
a plan to place a point roughly, not a street map. The box is the areas file's `plan`, or its
centres with a margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from databank.domain.areas import Areas, Box

WIDTH = 600

Point2 = tuple[float, float]


@dataclass(frozen=True)
class DistrictShape:
    code: str
    name: str
    label: str  # short text drawn at the centre
    lat: float
    lon: float
    x: float
    y: float
    points: str  # the SVG polygon's points attribute


@dataclass(frozen=True)
class Plan:
    title: str  # the deployment's place ("Lyon")
    width: int
    height: int
    south: float
    west: float
    north: float
    east: float
    districts: tuple[DistrictShape, ...]


def height_of(box: Box) -> int:
    """Equal scales in both directions at the box's latitude, so distances look right."""
    middle = math.cos(math.radians((box.north + box.south) / 2))
    return max(1, round(WIDTH * (box.north - box.south) / ((box.east - box.west) * middle)))


def project(box: Box, lat: float, lon: float) -> Point2:
    """Degrees to plan coordinates (x to the east, y to the south)."""
    x = (lon - box.west) / (box.east - box.west) * WIDTH
    return x, (box.north - lat) / (box.north - box.south) * height_of(box)


def _clip(polygon: list[Point2], keep: Point2, other: Point2) -> list[Point2]:
    """The part of a convex polygon nearer to `keep` than to `other` (Sutherland-Hodgman)."""
    nx, ny = other[0] - keep[0], other[1] - keep[1]
    mx, my = (keep[0] + other[0]) / 2, (keep[1] + other[1]) / 2

    def side(p: Point2) -> float:
        return (p[0] - mx) * nx + (p[1] - my) * ny  # <= 0: on keep's side

    out: list[Point2] = []
    for i, current in enumerate(polygon):
        previous = polygon[i - 1]
        s_cur, s_prev = side(current), side(previous)
        if (s_cur <= 0) != (s_prev <= 0):
            t = s_prev / (s_prev - s_cur)
            out.append(
                (
                    previous[0] + t * (current[0] - previous[0]),
                    previous[1] + t * (current[1] - previous[1]),
                )
            )
        if s_cur <= 0:
            out.append(current)
    return out


@cache
def plan(areas: Areas, language: str | None = None) -> Plan:
    """The plan of the areas, named in the language (made once per areas file and language)."""
    box = areas.box
    width, height = WIDTH, height_of(box)
    centres = {a.code: project(box, a.lat, a.lon) for a in areas.areas}
    shapes = []
    for area in areas.areas:
        cell: list[Point2] = [(0, 0), (width, 0), (width, height), (0, height)]
        here = centres[area.code]
        for code, there in centres.items():
            if code != area.code:
                cell = _clip(cell, here, there)
        name = area.name_in(language)
        shapes.append(
            DistrictShape(
                code=area.code,
                name=name,
                label=area.label or name,
                lat=area.lat,
                lon=area.lon,
                x=round(here[0], 1),
                y=round(here[1], 1),
                points=" ".join(f"{x:.1f},{y:.1f}" for x, y in cell),
            )
        )
    title = areas.name_in(language)
    return Plan(title, width, height, box.south, box.west, box.north, box.east, tuple(shapes))

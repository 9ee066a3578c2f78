"""The plan of the demo city's districts drawn as SVG: no tiles, no internet, a linear projection.

Each district is drawn as the area nearer to its centroid than to any other (a Voronoi cell),
which is how the databank itself names a district for a point (geo.nearest_district). It is a
plan to place a point roughly, not a street map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from databank.domain import geo

# The box drawn, in degrees: the Métropole's inner ring with a margin.
SOUTH, NORTH = 45.685, 45.815
WEST, EAST = 4.770, 4.960
WIDTH = 600
# Equal scales in both directions at the box's latitude, so distances look right.
HEIGHT = round(
    WIDTH * (NORTH - SOUTH) / ((EAST - WEST) * math.cos(math.radians((NORTH + SOUTH) / 2)))
)

Point2 = tuple[float, float]


@dataclass(frozen=True)
class DistrictShape:
    code: str
    name: str
    label: str  # short text drawn at the centroid
    lat: float
    lon: float
    x: float
    y: float
    points: str  # the SVG polygon's points attribute


@dataclass(frozen=True)
class Plan:
    width: int
    height: int
    south: float
    west: float
    north: float
    east: float
    districts: tuple[DistrictShape, ...]


def project(lat: float, lon: float) -> Point2:
    """Degrees to plan coordinates (x to the east, y to the south)."""
    return (lon - WEST) / (EAST - WEST) * WIDTH, (NORTH - lat) / (NORTH - SOUTH) * HEIGHT


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


def _label(name: str) -> str:
    return name.removeprefix("Lyon ") if name.startswith("Lyon ") else name.split("-")[0]


@cache
def plan() -> Plan:
    centres = {d.code: project(d.lat, d.lon) for d in geo.LYON_DISTRICTS}
    shapes = []
    for district in geo.LYON_DISTRICTS:
        cell: list[Point2] = [(0, 0), (WIDTH, 0), (WIDTH, HEIGHT), (0, HEIGHT)]
        here = centres[district.code]
        for code, there in centres.items():
            if code != district.code:
                cell = _clip(cell, here, there)
        shapes.append(
            DistrictShape(
                code=district.code,
                name=district.name,
                label=_label(district.name),
                lat=district.lat,
                lon=district.lon,
                x=round(here[0], 1),
                y=round(here[1], 1),
                points=" ".join(f"{x:.1f},{y:.1f}" for x, y in cell),
            )
        )
    return Plan(WIDTH, HEIGHT, SOUTH, WEST, NORTH, EAST, tuple(shapes))

"""The areas of a deployment (districts, wards): names, centres, the geohash-5 cells they hold."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from databank.domain import geo

CELL_LENGTH = 5  # a district-level cell, about 5 km: the finest place stored in clear
# The size of a geohash-5 cell in degrees: 13 of its 25 bits halve the longitude, 12 the latitude.
CELL_LAT = 180.0 / 2**12
CELL_LON = 360.0 / 2**13
# A boundary that would resolve to more cells than this is a mistake (a country, not an area).
MAX_CELLS = 2_000

Names = tuple[tuple[str, str], ...]  # (language, name) pairs; the first is the default


def name_in(names: Names, language: str | None) -> str:
    """The name in this language ("fr", "en", or "fr_CA": its language), else the default one."""
    if language:
        wanted = (language, language.replace("-", "_").split("_")[0])
        for key in wanted:
            for lang, name in names:
                if lang == key:
                    return name
    return names[0][1]


@dataclass(frozen=True)
class Box:
    """A latitude/longitude box: what the plan of the areas draws."""

    south: float
    west: float
    north: float
    east: float

    def holds(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


@dataclass(frozen=True)
class Area:
    """A named area of the deployment, located by its centre, covering some geohash-5 cells."""

    code: str  # short, stable, safe in a URL: the value forms and filters send
    names: Names
    lat: float
    lon: float
    cells: tuple[str, ...]  # geohash-5 cells, sorted; a cell may be shared with neighbours
    label: str = ""  # short text drawn on the plan; the name when empty
    # Only the demo reads these: how often its people are met here, and places to name in notes.
    demo_weight: float = 1.0
    landmarks: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The default name (the first the file gives)."""
        return self.names[0][1]

    def name_in(self, language: str | None) -> str:
        return name_in(self.names, language)

    @property
    def cell(self) -> str:
        """The cell of the centre: what is stored when a worker picks the area without a point."""
        return geo.encode(self.lat, self.lon, CELL_LENGTH)


@dataclass(frozen=True, eq=False)  # compared by identity: loaded once, used as a cache key
class Areas:
    """The deployment's areas, in the order of its file."""

    names: Names  # the deployment's (the city's, the council's) name
    areas: tuple[Area, ...]
    box: Box
    source: str = field(default="", compare=False)

    @property
    def name(self) -> str:
        return self.names[0][1]

    def name_in(self, language: str | None) -> str:
        return name_in(self.names, language)

    @cached_property
    def by_code(self) -> Mapping[str, Area]:
        return MappingProxyType({area.code: area for area in self.areas})

    def get(self, code: str) -> Area | None:
        return self.by_code.get(code)

    def in_cell(self, geohash: str) -> tuple[Area, ...]:
        """The areas holding the district-level cell of this geohash (none for a coarser one)."""
        if len(geohash) < CELL_LENGTH:
            return ()
        cell = geohash[:CELL_LENGTH].lower()
        return tuple(area for area in self.areas if cell in area.cells)

    def nearest(self, lat: float, lon: float) -> Area:
        """The area whose centre is closest to the point (how the plan divides the box)."""
        return min(self.areas, key=lambda a: geo.distance_km(lat, lon, a.lat, a.lon))


def point_in_polygon(lat: float, lon: float, polygon: Sequence[tuple[float, float]]) -> bool:
    """Whether the point is inside the polygon of (lat, lon) corners (even-odd rule)."""
    inside = False
    for i, (lat1, lon1) in enumerate(polygon):
        lat0, lon0 = polygon[i - 1]
        if (lat0 > lat) != (lat1 > lat):
            crossing = lon0 + (lat - lat0) / (lat1 - lat0) * (lon1 - lon0)
            if lon < crossing:
                inside = not inside
    return inside


def cells_in_boundary(polygon: Sequence[tuple[float, float]]) -> tuple[str, ...]:
    """The geohash-5 cells whose centre lies inside the polygon, sorted.

    ValueError if the polygon's box spans more than MAX_CELLS cells.
    """
    south = min(p[0] for p in polygon)
    north = max(p[0] for p in polygon)
    west = min(p[1] for p in polygon)
    east = max(p[1] for p in polygon)
    rows = math.floor((north + 90) / CELL_LAT) - math.floor((south + 90) / CELL_LAT) + 1
    columns = math.floor((east + 180) / CELL_LON) - math.floor((west + 180) / CELL_LON) + 1
    if rows * columns > MAX_CELLS:
        raise ValueError(f"spans more than {MAX_CELLS} cells of about 5 km")
    first_lat = -90 + (math.floor((south + 90) / CELL_LAT) + 0.5) * CELL_LAT
    first_lon = -180 + (math.floor((west + 180) / CELL_LON) + 0.5) * CELL_LON
    found = set()
    for row in range(rows):
        lat = first_lat + row * CELL_LAT
        for column in range(columns):
            lon = first_lon + column * CELL_LON
            if -90 < lat < 90 and -180 < lon < 180 and point_in_polygon(lat, lon, polygon):
                found.add(geo.encode(lat, lon, CELL_LENGTH))
    return tuple(sorted(found))


def box_around(points: Sequence[tuple[float, float]]) -> Box:
    """The box holding the points with a margin (a quarter of its size, at least about 1 km)."""
    south, north = min(p[0] for p in points), max(p[0] for p in points)
    west, east = min(p[1] for p in points), max(p[1] for p in points)
    lat_margin = max((north - south) / 4, 0.01)
    middle = math.radians((south + north) / 2)
    lon_margin = max((east - west) / 4, 0.01 / max(math.cos(middle), 0.1))
    return Box(
        max(south - lat_margin, -90.0),
        max(west - lon_margin, -180.0),
        min(north + lat_margin, 90.0),
        min(east + lon_margin, 180.0),
    )

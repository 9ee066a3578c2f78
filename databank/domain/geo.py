"""Geohash encoding and coarsening to location levels; distances between points.

The named areas of a deployment are configuration: see domain/areas.py and areas_file.py.
"""

from __future__ import annotations

import math

from databank.domain.enums import LocationLevel

BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
_DECODE = {char: index for index, char in enumerate(BASE32)}
MAX_PRECISION = 12
_EARTH_RADIUS_KM = 6371.0088


def _check_point(lat: float, lon: float) -> None:
    # Written so that NaN fails too: every comparison with NaN is false.
    if not -90.0 <= lat <= 90.0:
        raise ValueError("lat must be between -90 and 90")
    if not -180.0 <= lon <= 180.0:
        raise ValueError("lon must be between -180 and 180")


def _check_geohash(geohash: str) -> str:
    """The geohash in lower case; ValueError if it is empty, too long or not base32."""
    lowered = geohash.lower()
    if not 1 <= len(lowered) <= MAX_PRECISION:
        raise ValueError(f"geohash must have 1 to {MAX_PRECISION} characters")
    if any(char not in _DECODE for char in lowered):
        raise ValueError("geohash may only contain geohash base32 characters")
    return lowered


def encode(lat: float, lon: float, precision: int) -> str:
    """The geohash of length `precision` (1 to 12) of the cell holding the point."""
    _check_point(lat, lon)
    if not 1 <= precision <= MAX_PRECISION:
        raise ValueError(f"precision must be between 1 and {MAX_PRECISION}")
    lat_lo, lat_hi = -90.0, 90.0
    lon_lo, lon_hi = -180.0, 180.0
    chars: list[str] = []
    bits = 0
    bit_count = 0
    even = True  # bits alternate, starting with longitude
    while len(chars) < precision:
        if even:
            mid = (lon_lo + lon_hi) / 2
            if lon >= mid:
                bits = bits * 2 + 1
                lon_lo = mid
            else:
                bits *= 2
                lon_hi = mid
        else:
            mid = (lat_lo + lat_hi) / 2
            if lat >= mid:
                bits = bits * 2 + 1
                lat_lo = mid
            else:
                bits *= 2
                lat_hi = mid
        even = not even
        bit_count += 1
        if bit_count == 5:
            chars.append(BASE32[bits])
            bits = 0
            bit_count = 0
    return "".join(chars)


def bounds(geohash: str) -> tuple[float, float, float, float]:
    """The cell of a geohash as (south, west, north, east)."""
    lat_lo, lat_hi = -90.0, 90.0
    lon_lo, lon_hi = -180.0, 180.0
    even = True
    for char in _check_geohash(geohash):
        value = _DECODE[char]
        for shift in range(4, -1, -1):
            bit = (value >> shift) & 1
            if even:
                mid = (lon_lo + lon_hi) / 2
                lon_lo, lon_hi = (mid, lon_hi) if bit else (lon_lo, mid)
            else:
                mid = (lat_lo + lat_hi) / 2
                lat_lo, lat_hi = (mid, lat_hi) if bit else (lat_lo, mid)
            even = not even
    return lat_lo, lon_lo, lat_hi, lon_hi


def decode(geohash: str) -> tuple[float, float]:
    """The centre (lat, lon) of a geohash cell."""
    south, west, north, east = bounds(geohash)
    return (south + north) / 2, (west + east) / 2


def coarsen(geohash: str, length: int) -> str:
    """The enclosing cell of `length` characters (a prefix); ValueError if that would refine."""
    checked = _check_geohash(geohash)
    if not 1 <= length <= len(checked):
        raise ValueError("length must be between 1 and the length of the geohash")
    return checked[:length]


def geohash_for_level(lat: float, lon: float, level: LocationLevel) -> str | None:
    """The geohash that stands for the point at this level.

    None for NONE (nothing is kept) and for EXACT: an exact point is kept as the point itself,
    encrypted, never as a geohash, so there is no geohash to return.
    """
    _check_point(lat, lon)
    length = level.geohash_length
    if not length:  # NONE has length 0, EXACT has None
        return None
    return encode(lat, lon, length)


def coarsen_to_level(geohash: str, level: LocationLevel) -> str | None:
    """The geohash cut down to this level; None for NONE and EXACT (see geohash_for_level).

    ValueError if the geohash is coarser than the level asks: precision cannot be recovered.
    """
    checked = _check_geohash(geohash)
    length = level.geohash_length
    if not length:
        return None
    if len(checked) < length:
        raise ValueError("geohash is coarser than the level asks for")
    return checked[:length]


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance between two points, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def release_place(
    level: int, area: str | None, point: tuple[float, float] | None
) -> tuple[LocationLevel, str, bool] | None:
    """A location coarsened to the released `level`: (level given, geohash at it, whether the
    exact point goes too), or None when nothing is released. `area` is the clear district
    geohash, `point` the exact (lat, lon) once opened. Nothing finer than `level` comes out."""
    if level <= LocationLevel.NONE:
        return None
    if point is not None:
        if level >= LocationLevel.EXACT:
            return LocationLevel.EXACT, encode(*point, 7), True
        if level >= LocationLevel.STREET:
            return LocationLevel.STREET, encode(*point, 7), False
    if area is None:
        return None
    if level >= LocationLevel.DISTRICT:
        return LocationLevel.DISTRICT, area[:5], False
    return LocationLevel.CITY, area[:4], False

"""Tests of geohash encoding, coarsening to location levels and distances."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from databank.domain import geo
from databank.domain.enums import LocationLevel

latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False)
precisions = st.integers(min_value=1, max_value=12)
geohashes = st.text(alphabet="0123456789bcdefghjkmnpqrstuvwxyz", min_size=1, max_size=12)


@pytest.mark.parametrize(
    ("lat", "lon", "precision", "expected"),
    [
        (57.64911, 10.40744, 11, "u4pruydqqvj"),  # Wikipedia's example
        (-25.382708, -49.265506, 12, "6gkzwgjzn820"),  # geohash.org's example
        (42.6, -5.6, 5, "ezs42"),
        (48.8566, 2.3522, 7, "u09tvw0"),  # Paris
        (51.5074, -0.1278, 6, "gcpvj0"),  # London
        (45.7640, 4.8357, 5, "u05kq"),  # Lyon, hôtel de ville
        (0.0, 0.0, 1, "s"),
        (-90.0, -180.0, 12, "000000000000"),
        (90.0, 180.0, 12, "zzzzzzzzzzzz"),
    ],
)
def test_known_vectors(lat: float, lon: float, precision: int, expected: str) -> None:
    assert geo.encode(lat, lon, precision) == expected


def test_bounds_of_a_known_cell() -> None:
    south, west, north, east = geo.bounds("ezs42")
    assert (south, west, north, east) == (42.5830078125, -5.625, 42.626953125, -5.5810546875)
    assert geo.decode("ezs42") == ((south + north) / 2, (west + east) / 2)


def test_decode_is_case_insensitive() -> None:
    assert geo.decode("EZS42") == geo.decode("ezs42")


@given(geohashes)
def test_decoded_centre_reencodes_to_the_same_geohash(geohash: str) -> None:
    lat, lon = geo.decode(geohash)
    assert geo.encode(lat, lon, len(geohash)) == geohash


@given(latitudes, longitudes, precisions)
def test_point_lies_in_its_cell(lat: float, lon: float, precision: int) -> None:
    geohash = geo.encode(lat, lon, precision)
    assert len(geohash) == precision
    south, west, north, east = geo.bounds(geohash)
    assert south <= lat <= north
    assert west <= lon <= east
    assert geo.encode(*geo.decode(geohash), precision) == geohash


@given(latitudes, longitudes, precisions, precisions)
def test_coarsening_equals_encoding_at_lower_precision(
    lat: float, lon: float, fine: int, coarse: int
) -> None:
    fine, coarse = max(fine, coarse), min(fine, coarse)
    geohash = geo.encode(lat, lon, fine)
    assert geo.coarsen(geohash, coarse) == geo.encode(lat, lon, coarse)
    assert geohash.startswith(geo.coarsen(geohash, coarse))


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        (90.0001, 0.0, "lat"),
        (-91.0, 0.0, "lat"),
        (math.nan, 0.0, "lat"),
        (math.inf, 0.0, "lat"),
        (0.0, 180.5, "lon"),
        (0.0, -181.0, "lon"),
        (0.0, math.nan, "lon"),
    ],
)
def test_out_of_range_points_raise_naming_the_field(lat: float, lon: float, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field} "):
        geo.encode(lat, lon, 5)
    with pytest.raises(ValueError, match=rf"^{field} "):
        geo.geohash_for_level(lat, lon, LocationLevel.DISTRICT)


@pytest.mark.parametrize("precision", [0, -1, 13])
def test_invalid_precision_raises_naming_the_field(precision: int) -> None:
    with pytest.raises(ValueError, match=r"^precision "):
        geo.encode(0.0, 0.0, precision)


@pytest.mark.parametrize("geohash", ["", "u05ka", "u05ki", "u05kl", "u05ko", "u05k!", "u" * 13])
def test_invalid_geohash_raises_naming_the_field(geohash: str) -> None:
    for call in (geo.decode, geo.bounds, lambda g: geo.coarsen(g, 1)):
        with pytest.raises(ValueError, match=r"^geohash "):
            call(geohash)


@pytest.mark.parametrize("length", [0, 6, -1])
def test_coarsen_cannot_refine(length: int) -> None:
    with pytest.raises(ValueError, match=r"^length "):
        geo.coarsen("u05kq", length)


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (LocationLevel.NONE, None),
        (LocationLevel.CITY, "u05k"),
        (LocationLevel.DISTRICT, "u05kq"),
        (LocationLevel.STREET, geo.encode(45.7640, 4.8357, 7)),
        (LocationLevel.EXACT, None),
    ],
)
def test_geohash_for_level(level: LocationLevel, expected: str | None) -> None:
    assert geo.geohash_for_level(45.7640, 4.8357, level) == expected


def test_coarsen_to_level() -> None:
    street = geo.encode(45.7640, 4.8357, 7)
    assert geo.coarsen_to_level(street, LocationLevel.NONE) is None
    assert geo.coarsen_to_level(street, LocationLevel.CITY) == "u05k"
    assert geo.coarsen_to_level(street, LocationLevel.DISTRICT) == "u05kq"
    assert geo.coarsen_to_level(street, LocationLevel.STREET) == street
    assert geo.coarsen_to_level(street, LocationLevel.EXACT) is None


def test_coarsen_to_level_cannot_restore_lost_precision() -> None:
    with pytest.raises(ValueError, match=r"^geohash "):
        geo.coarsen_to_level("u05kq", LocationLevel.STREET)


def test_distance_km() -> None:
    # Paris to Lyon, as the crow flies: about 392 km.
    assert geo.distance_km(48.8566, 2.3522, 45.7640, 4.8357) == pytest.approx(392, abs=3)
    assert geo.distance_km(45.0, 4.0, 45.0, 4.0) == 0

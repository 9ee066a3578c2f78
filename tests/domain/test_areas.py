"""The areas files: the demo's Lyon, a made-up council's wards, and errors that name the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from databank.config import DEMO_AREAS_FILE
from databank.domain import geo
from databank.domain.areas import cells_in_boundary, point_in_polygon
from databank.domain.areas_file import load_areas, parse_areas
from databank.domain.errors import ConfigurationError

WARDS_FILE = Path(__file__).resolve().parents[1] / "data" / "areas" / "made_up_wards.yaml"
LYON = load_areas(DEMO_AREAS_FILE)
WARDS = load_areas(WARDS_FILE)


def test_the_demo_file_holds_lyons_districts() -> None:
    codes = [a.code for a in LYON.areas]
    assert len(codes) == len(set(codes)) == 16
    assert {f"lyon-{n}" for n in range(1, 10)} <= set(codes)
    assert LYON.name == "Lyon"
    assert LYON.by_code["villeurbanne"].name == "Villeurbanne"
    for area in LYON.areas:
        # All within about 15 km of Lyon's hôtel de ville, in or beside Lyon's city-level cell.
        assert geo.distance_km(45.7640, 4.8357, area.lat, area.lon) < 15
        assert area.cell == geo.encode(area.lat, area.lon, 5)
        assert area.cell in area.cells
        assert area.cell[:3] == "u05"
        assert LYON.box.holds(area.lat, area.lon)
        assert area.landmarks  # the demo's notes name a place in each


def test_the_nearest_area_of_each_centre_is_itself() -> None:
    for areas in (LYON, WARDS):
        for area in areas.areas:
            assert areas.nearest(area.lat, area.lon) is area


def test_the_nearest_area_of_known_places() -> None:
    assert LYON.nearest(45.7640, 4.8357).code == "lyon-1"  # hôtel de ville
    assert LYON.nearest(45.7606, 4.8593).code == "lyon-3"  # Part-Dieu
    assert LYON.nearest(45.7662, 4.8796).code == "villeurbanne"  # its town hall


def test_a_cell_is_named_by_every_area_that_holds_it() -> None:
    assert [a.code for a in LYON.in_cell("u05kq")] == ["lyon-3", "lyon-6"]
    assert [a.code for a in LYON.in_cell("u05kqz1")] == ["lyon-3", "lyon-6"]  # a finer geohash
    assert LYON.in_cell("u05k") == ()  # a city-level cell names no district
    assert LYON.in_cell("gcj2x") == ()
    shared = [a.code for a in WARDS.in_cell("GCJ2X")]
    assert shared == ["castle", "riverside", "st-annes", "northgate"]


def test_names_in_each_language_fall_back_to_the_first() -> None:
    st_annes = WARDS.by_code["st-annes"]
    assert st_annes.name == "St Anne's"
    assert st_annes.name_in("fr") == "Sainte-Anne"
    assert st_annes.name_in("fr_CA") == "Sainte-Anne"
    assert st_annes.name_in("de") == st_annes.name_in(None) == "St Anne's"
    assert WARDS.by_code["castle"].name_in("fr") == "Castle"
    assert WARDS.name_in("fr") == "Riverbridge"


def test_a_boundary_resolves_to_the_cells_whose_centre_it_holds() -> None:
    heathfield = WARDS.by_code["heathfield_rural"]
    assert heathfield.cells == ("gcj82", "gcj83")
    for cell in heathfield.cells:
        south, west, north, east = geo.bounds(cell)
        assert 50.685 < (south + north) / 2 < 50.715
        assert -3.50 < (west + east) / 2 < -3.43
    # A boundary smaller than a cell still holds the cell of its centre.
    assert WARDS.by_code["millbrook"].cells == ("gcj8c",)


def test_without_a_plan_box_the_centres_are_drawn_with_a_margin() -> None:
    box = WARDS.box
    assert all(box.holds(a.lat, a.lon) for a in WARDS.areas)
    assert box.south < min(a.lat for a in WARDS.areas)
    assert box.east > max(a.lon for a in WARDS.areas)


def test_point_in_polygon_and_a_boundary_too_large() -> None:
    square = [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0)]
    assert point_in_polygon(0.5, 0.5, square)
    assert not point_in_polygon(1.5, 0.5, square)
    with pytest.raises(ValueError, match="more than"):
        cells_in_boundary([(40.0, 0.0), (40.0, 5.0), (45.0, 5.0), (45.0, 0.0)])


def _document(**area: Any) -> dict[str, Any]:
    base = {"code": "a", "name": "A", "centre": {"lat": 45.7594, "lon": 4.8620}, "cells": ["u05kq"]}
    return {"name": "Somewhere", "areas": [{**base, **area}]}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (None, "must be a mapping of fields"),
        ({"areas": _document()["areas"]}, "name: is required"),
        ({"name": "X", "areas": []}, "areas: must list at least one area"),
        ({**_document(), "zone": "x"}, "zone: is not a known field"),
        (_document(centroid=[1, 2]), r"areas\[0\]\.centroid: is not a known field"),
        (_document(code="Lyon 1"), r"areas\[0\]\.code: must be up to 40 lower-case"),
        (_document(code=7), r"areas\[0\]\.code: must be some text"),
        (_document(name={}), r"areas\[0\] \(a\)\.name: must give a name"),
        (_document(name={"French": "A"}), r"areas\[0\] \(a\)\.name\.French: is not a language"),
        (
            _document(centre={"lat": 95, "lon": 4}),
            r"areas\[0\] \(a\)\.centre\.lat: must be between -90 and 90",
        ),
        (_document(centre={"lat": 45}), r"areas\[0\] \(a\)\.centre\.lon: is required"),
        (_document(centre=[45.0, "east"]), r"areas\[0\] \(a\)\.centre\[1\]: must be a number"),
        (_document(cells=["u05k"]), r"areas\[0\] \(a\)\.cells\[0\]: 'u05k' is not a geohash of 5"),
        (_document(cells=["u05ka"]), r"areas\[0\] \(a\)\.cells\[0\]: 'u05ka' is not a geohash"),
        (
            _document(cells=["u05km"]),
            r"areas\[0\] \(a\)\.cells: must include u05kq, the cell of the centre",
        ),
        (_document(cells=[]), r"areas\[0\] \(a\)\.cells: must list at least one"),
        (
            _document(boundary=[[45.7, 4.8], [45.7, 4.9], [45.8, 4.9]]),
            r"areas\[0\] \(a\): needs either cells or boundary",
        ),
        (
            {
                "name": "X",
                "areas": [{k: v for k, v in _document()["areas"][0].items() if k != "cells"}],
            },
            r"areas\[0\] \(a\): needs either cells or boundary",
        ),
        (_document(demo={"weight": 0}), r"areas\[0\] \(a\)\.demo\.weight: must be more than 0"),
        (
            _document(demo={"landmarks": "la gare"}),
            r"areas\[0\] \(a\)\.demo\.landmarks: must be a list",
        ),
        (_document(label=""), r"areas\[0\] \(a\)\.label: must be some text"),
        (
            {**_document(), "plan": {"south": 45.0, "west": 4.0, "north": 45.5, "east": 5.0}},
            r"plan: does not hold the centre of areas\[0\] \(a\)",
        ),
        (
            {**_document(), "plan": {"south": 46.0, "west": 4.0, "north": 45.5, "east": 5.0}},
            "plan: south must be below north",
        ),
    ],
)
def test_a_wrong_file_is_refused_naming_the_field(document: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"^areas file test\.yaml: {message}"):
        parse_areas(document, "test.yaml")


def test_a_boundary_must_hold_its_centre_and_not_a_country(tmp_path: Path) -> None:
    outside = _document(boundary=[[45.0, 4.0], [45.0, 4.1], [45.1, 4.1]])
    del outside["areas"][0]["cells"]
    with pytest.raises(ConfigurationError, match=r"\(a\)\.boundary: does not hold the area's"):
        parse_areas(outside)
    country = _document(boundary=[[42.0, -2.0], [42.0, 8.0], [51.0, 8.0], [51.0, -2.0]])
    del country["areas"][0]["cells"]
    with pytest.raises(ConfigurationError, match=r"\(a\)\.boundary: spans more than"):
        parse_areas(country)


def test_a_code_is_used_once() -> None:
    document = _document()
    document["areas"].append({**document["areas"][0], "name": "B"})
    with pytest.raises(ConfigurationError, match=r"areas\[1\]\.code: 'a' is already the code of"):
        parse_areas(document)


def test_unreadable_files_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ConfigurationError, match=rf"^areas file {missing}: cannot be read"):
        load_areas(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: X\nareas: [\n  {code: a\n")
    with pytest.raises(ConfigurationError, match=r"broken\.yaml: not valid YAML \(line \d+\)"):
        load_areas(broken)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(_document()))
    assert load_areas(good).by_code["a"].cells == ("u05kq",)

"""The deployment's settings: its areas file and time zone, checked at start-up."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from databank.config import DEMO_AREAS_FILE, Settings
from databank.domain.errors import ConfigurationError

WARDS_FILE = Path(__file__).resolve().parent / "data" / "areas" / "made_up_wards.yaml"


def test_the_demo_deployment_is_lyon_in_paris_time() -> None:
    settings = Settings.from_env({})
    assert settings.areas_file == DEMO_AREAS_FILE
    assert settings.areas.name == "Lyon"
    assert settings.zone == ZoneInfo("Europe/Paris")


def test_the_areas_file_and_time_zone_come_from_the_environment() -> None:
    env = {"DATABANK_AREAS_FILE": str(WARDS_FILE), "DATABANK_TIME_ZONE": "Europe/London"}
    settings = Settings.from_env(env)
    assert settings.areas.name == "Riverbridge"
    assert "castle" in settings.areas.by_code
    assert "lyon-1" not in settings.areas.by_code
    assert settings.zone == ZoneInfo("Europe/London")
    # Overrides (as tests and scripts give them) are loaded and checked the same way.
    lyon = Settings.from_env(env, areas_file=DEMO_AREAS_FILE, time_zone="America/Montreal")
    assert lyon.areas.name == "Lyon"
    assert lyon.zone == ZoneInfo("America/Montreal")


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Paris", "../etc/passwd", "  "])
def test_an_unknown_time_zone_stops_the_start(zone: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^DATABANK_TIME_ZONE: .* not a known time zone"):
        Settings.from_env({"DATABANK_TIME_ZONE": zone})


def test_a_wrong_areas_file_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"nowhere\.yaml: cannot be read"):
        Settings.from_env({"DATABANK_AREAS_FILE": str(tmp_path / "nowhere.yaml")})
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("name: X\nareas:\n  - {code: a, name: A, centre: {lat: 45, lon: 4}}\n")
    with pytest.raises(ConfigurationError, match=r"wrong\.yaml: areas\[0\] \(a\): needs either"):
        Settings.from_env({"DATABANK_AREAS_FILE": str(wrong)})


@pytest.mark.parametrize(
    "value", ["databank.example.org", "ftp://x.org", "https://x.org/app", "https://"]
)
def test_a_public_url_is_a_scheme_and_a_host_only(value: str) -> None:
    """DATABANK_PUBLIC_URL (the address in invitation links) is http(s)://host[:port]: anything
    else stops the start with an error naming the variable."""
    with pytest.raises(ConfigurationError, match="DATABANK_PUBLIC_URL"):
        Settings.from_env({"DATABANK_PUBLIC_URL": value})
    assert Settings.from_env({"DATABANK_PUBLIC_URL": "https://x.org:8443/"}).public_url == (
        "https://x.org:8443"
    )


@pytest.mark.parametrize("value", ["-1", "11", "two"])
def test_trusted_proxies_is_a_small_count(value: str) -> None:
    """DATABANK_TRUSTED_PROXIES counts the proxies in front of the app (0 by default: an
    X-Forwarded-For header is then ignored); anything else stops the start, naming it."""
    with pytest.raises(ConfigurationError, match="DATABANK_TRUSTED_PROXIES"):
        Settings.from_env({"DATABANK_TRUSTED_PROXIES": value})
    assert Settings.from_env({}).trusted_proxies == 0
    assert Settings.from_env({"DATABANK_TRUSTED_PROXIES": "1"}).trusted_proxies == 1

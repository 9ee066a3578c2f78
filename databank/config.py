"""Typed settings read from DATABANK_* environment variables; fails fast on what is missing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from databank.domain.areas import Areas
from databank.domain.areas_file import load_areas
from databank.domain.errors import ConfigurationError

DEFAULT_INSTANCE = Path("instance")
# The policies shipped with the code; an operator points DATABANK_POLICIES_DIR at their own copy.
DEFAULT_POLICIES = Path(__file__).resolve().parents[1] / "policies"
# The demo's deployment: Lyon's districts, in Lyon's time zone. A deployment names its own.
DEMO_AREAS_FILE = Path(__file__).resolve().parent / "demo" / "areas" / "lyon.yaml"
DEMO_TIME_ZONE = "Europe/Paris"


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number") from None


@lru_cache(maxsize=8)
def _load_areas(path: Path, _stamp: tuple[int, int]) -> Areas:
    return load_areas(path)


def _areas(path: Path) -> Areas:
    """The areas of the file, read once per version of it (settings are built several times)."""
    try:
        stat = path.stat()
    except OSError:
        return load_areas(path)  # raises the error that names the file
    return _load_areas(path, (stat.st_mtime_ns, stat.st_size))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"DATABANK_TIME_ZONE: {name!r} is not a known time zone (an IANA name: Europe/London)"
        ) from None


def _public_url(value: str) -> str:
    """DATABANK_PUBLIC_URL: http(s)://host[:port], without a path; refused otherwise, named."""
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
        raise ConfigurationError(
            f"DATABANK_PUBLIC_URL must be http(s)://host[:port] without a path, not {value!r}"
        )
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to start, in one typed object."""

    instance_path: Path = DEFAULT_INSTANCE
    database_url: str = ""
    keys_dir: Path | None = None
    policies_dir: Path = DEFAULT_POLICIES
    secret_key: str = ""
    # The name of this log in its signed checkpoints (the "origin" line of the signed note).
    audit_origin: str = "databank.local/audit"
    # Blind indexes are sized for this many identity rows per organisation (design section 4).
    planned_population: int = 100_000
    testing: bool = False
    # Session cookies only over HTTPS; the local demo on http://127.0.0.1 turns it off.
    cookie_secure: bool = True
    # The deployment's areas (districts, wards) and the time zone its people live in: a time typed
    # on a page is read in it and times are shown in it.
    areas_file: Path = DEMO_AREAS_FILE
    time_zone: str = DEMO_TIME_ZONE
    # The address people open the site at (scheme, host, port), for links sent to them
    # (invitations): never the request's Host header, which the client chooses. Empty: links are
    # given as paths, to append to the site's address.
    public_url: str = ""
    # How many proxies in front of the app append the client's address to X-Forwarded-For
    # (werkzeug's ProxyFix): 0 trusts none, and the header, which any client can write, is
    # ignored. The sign-in throttle counts failures per client address.
    trusted_proxies: int = 0
    # Background jobs (databank/jobs.py, huey): "sqlite" (a queue file in the instance folder),
    # "redis://host:port/db" (production), "immediate" (run at once, in the caller: tests) or
    # "off" (nothing queued: `databank linkage run` links what is waiting). Unset: sqlite, or off
    # when testing.
    jobs: str = ""
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Loaded and checked from the two above: a wrong file or zone stops the start.
    areas: Areas = field(init=False, repr=False, compare=False)
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "areas", _areas(Path(self.areas_file)))
        object.__setattr__(self, "zone", _zone(self.time_zone))

    @property
    def sqlite_path(self) -> Path:
        return self.instance_path / "databank.sqlite"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ if environ is None else environ)
        instance = Path(env.get("DATABANK_INSTANCE_PATH", str(DEFAULT_INSTANCE))).absolute()
        url = env.get("DATABANK_DATABASE_URL", "")
        keys_dir = Path(env["DATABANK_KEYS_DIR"]) if env.get("DATABANK_KEYS_DIR") else None
        settings = cls(
            instance_path=instance,
            database_url=url,
            keys_dir=keys_dir,
            policies_dir=Path(env.get("DATABANK_POLICIES_DIR") or DEFAULT_POLICIES),
            audit_origin=env.get("DATABANK_AUDIT_ORIGIN") or "databank.local/audit",
            secret_key=env.get("DATABANK_SECRET_KEY", ""),
            planned_population=_int(env, "DATABANK_PLANNED_POPULATION", 100_000),
            testing=env.get("DATABANK_TESTING", "") == "1",
            cookie_secure=env.get("DATABANK_COOKIE_SECURE", "1") != "0",
            areas_file=Path(env.get("DATABANK_AREAS_FILE") or DEMO_AREAS_FILE),
            time_zone=env.get("DATABANK_TIME_ZONE") or DEMO_TIME_ZONE,
            public_url=_public_url(env.get("DATABANK_PUBLIC_URL", "")),
            trusted_proxies=_int(env, "DATABANK_TRUSTED_PROXIES", 0),
            jobs=env.get("DATABANK_JOBS", ""),
            environ=env,
        )
        settings = replace(settings, **overrides)
        if not settings.database_url:
            settings = replace(settings, database_url=f"sqlite:///{settings.sqlite_path}")
        if settings.keys_dir is None:
            settings = replace(settings, keys_dir=settings.instance_path / "keys")
        if settings.planned_population < 64:
            raise ConfigurationError("DATABANK_PLANNED_POPULATION must be at least 64")
        if not settings.jobs:
            settings = replace(settings, jobs="off" if settings.testing else "sqlite")
        if settings.jobs not in ("off", "immediate", "sqlite") and not settings.jobs.startswith(
            "redis://"
        ):
            raise ConfigurationError(
                "DATABANK_JOBS must be off, immediate, sqlite or a redis:// address"
            )
        if not 0 <= settings.trusted_proxies <= 10:
            raise ConfigurationError(
                "DATABANK_TRUSTED_PROXIES must be the number of proxies in front of the app "
                "(0 to 10; 0: none)"
            )
        return settings

    @property
    def resolved_keys_dir(self) -> Path:
        assert self.keys_dir is not None  # noqa: S101 - set by from_env
        return self.keys_dir

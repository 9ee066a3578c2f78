"""Typed settings read from DATABANK_* environment variables; fails fast on what is missing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from databank.domain.errors import ConfigurationError

DEFAULT_INSTANCE = Path("instance")
# The policies shipped with the code; an operator points DATABANK_POLICIES_DIR at their own copy.
DEFAULT_POLICIES = Path(__file__).resolve().parents[1] / "policies"


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number") from None


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
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

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
            environ=env,
        )
        settings = replace(settings, **overrides)
        if not settings.database_url:
            settings = replace(settings, database_url=f"sqlite:///{settings.sqlite_path}")
        if settings.keys_dir is None:
            settings = replace(settings, keys_dir=settings.instance_path / "keys")
        if settings.planned_population < 64:
            raise ConfigurationError("DATABANK_PLANNED_POPULATION must be at least 64")
        return settings

    @property
    def resolved_keys_dir(self) -> Path:
        assert self.keys_dir is not None  # noqa: S101 - set by from_env
        return self.keys_dir

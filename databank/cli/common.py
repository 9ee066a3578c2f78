"""Shared helpers of the CLI commands: the runtime, a transaction, and clear error output."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session

from databank.domain.enums import Role
from databank.domain.errors import DatabankError
from databank.extension import runtime_of
from databank.models import Organisation
from databank.services.actors import Actor
from databank.services.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])


def runtime() -> Runtime:
    return runtime_of()


@contextmanager
def transaction() -> Iterator[Session]:
    with runtime().transaction() as session:
        yield session


def operator(org: Organisation) -> Actor:
    """The operator at the command line acts as an administrator of the named organisation."""
    return Actor(None, org.id, org.kind, frozenset({Role.ORG_ADMIN}), "cli")


def friendly_errors(func: F) -> F:
    """Print a DatabankError as one clear line and exit 1, instead of a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DatabankError as error:
            details = "; ".join(f"{k}: {', '.join(v)}" for k, v in error.errors.items())
            raise click.ClickException(
                f"{error.message}{' (' + details + ')' if details else ''}"
            ) from None

    return wrapper  # type: ignore[return-value]

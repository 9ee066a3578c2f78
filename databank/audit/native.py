"""The bulk pass of `databank audit verify` in C (`_fastscan.c`), where it could be built.

It is built at install when a C compiler and the SQLite and OpenSSL headers are there
(pyproject.toml), and it reads with the very SQLite library of this process's `sqlite3` module.
Without it, or with DATABANK_VERIFY_NATIVE=0, verify runs its Python passes, which give the same
verdicts: the C pass only vouches for chunks those passes would accept, and leaves every other
chunk to them.
"""

from __future__ import annotations

import importlib
import os
from functools import cache
from types import ModuleType

SWITCH = "DATABANK_VERIFY_NATIVE"  # "0" turns the C pass off


@cache
def _module() -> ModuleType | None:
    """The C module, bound to the SQLite library of the `_sqlite3` module; None if it was not
    built or that library cannot be reached (a `sqlite3` built into the interpreter, say)."""
    try:
        from databank.audit import _fastscan

        sqlite_module = importlib.import_module("_sqlite3")
    except ImportError:
        return None
    path = getattr(sqlite_module, "__file__", None)
    if not path or not _fastscan.bind(path):
        return None
    return _fastscan


def built() -> bool:
    """Whether the C pass was built and can read with this process's SQLite."""
    return _module() is not None


def available() -> bool:
    """Whether verify uses the C pass: built, and not switched off."""
    return os.environ.get(SWITCH, "1") != "0" and built()


def scan(path: str, lo: int, hi: int) -> tuple[list[bytes], bytes] | None:
    """The C pass over entries lo..hi-1 of the SQLite file at `path` (see `_fastscan.c`): the
    levels of their subtree and what the first entry names as its predecessor, or None if
    anything is not proven."""
    module = _module()
    if module is None:
        raise RuntimeError("the C pass of audit verify is not built here")
    found: tuple[list[bytes], bytes] | None = module.scan(path, lo, hi)
    return found

"""The bulk pass of `databank audit verify` over an SQLite log, in C (_fastscan.c)."""

def bind(path: str) -> bool:
    """Read with the SQLite library of the loaded extension module at `path` (`_sqlite3`)."""

def scan(path: str, lo: int, hi: int) -> tuple[list[bytes], bytes] | None:
    """The levels of the subtree over entries lo..hi-1 (level 0 the leaves, 32 bytes a node)
    and what the first entry names as its predecessor; None if anything is not proven."""

"""Searching raw bytes (database files, dumps) for clear personal values, in UTF-8 and UTF-16."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from databank.demo.cast import DemoPerson
from databank.domain.names import normalise_name

# Runs of characters a personal value is made of (letters, digits, spaces, usual punctuation, and
# multi-byte UTF-8 letters). Ciphertext is random bytes, so such runs are short and rare there:
# searching the runs instead of the whole file keeps the scan fast without missing a clear value.
_UTF8_RUN = re.compile(
    rb"(?:[A-Za-z0-9_ '\-./:,+()]|[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}){4,}"
)
_UTF16LE_RUN = re.compile(rb"(?:[\x20-\xff]\x00){4,}")
_UTF16BE_RUN = re.compile(rb"(?:\x00[\x20-\xff]){4,}")
MIN_LENGTH = 5  # a shorter value would match random ciphertext by chance (1 in 2^32 per place)


def _haystacks(raw: bytes) -> list[str]:
    utf8 = "\n".join(m.decode("utf-8", "replace") for m in _UTF8_RUN.findall(raw))
    le = "\n".join(m.decode("utf-16-le") for m in _UTF16LE_RUN.findall(raw))
    be = "\n".join(m.decode("utf-16-be") for m in _UTF16BE_RUN.findall(raw))
    return [utf8, le, be]


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


class _Index:
    """Positions of every MIN_LENGTH-character prefix in a text, to check many needles fast."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: dict[str, list[int]] = defaultdict(list)
        for i in range(len(text) - MIN_LENGTH + 1):
            self.starts[text[i : i + MIN_LENGTH]].append(i)

    def contains(self, needle: str, whole_word: bool) -> bool:
        text = self.text
        for i in self.starts.get(needle[:MIN_LENGTH], ()):
            if not text.startswith(needle, i):
                continue
            end = i + len(needle)
            if whole_word and (
                (i > 0 and _is_word(text[i - 1])) or (end < len(text) and _is_word(text[end]))
            ):
                continue
            return True
        return False


def find_clear_values(raw: bytes, needles: Iterable[str], words: Iterable[str] = ()) -> list[str]:
    """The needles that appear in the raw bytes as UTF-8, UTF-16-LE or UTF-16-BE text.

    `words` are searched as whole words only: lower-case name keys such as "stone" would
    otherwise be found inside the schema's own identifiers ("tombstones").
    """
    indexes = [_Index(h) for h in _haystacks(raw)]
    found = {n for n in needles if any(ix.contains(n, whole_word=False) for ix in indexes)}
    found |= {w for w in words if any(ix.contains(w, whole_word=True) for ix in indexes)}
    return sorted(found)


def personal_values(population: Iterable[DemoPerson]) -> tuple[set[str], set[str]]:
    """Every identifier and note of the demo people as written, and their lower-case name keys."""
    values: set[str] = set()
    keys: set[str] = set()
    for person in population:
        bd = person.birth_date
        # Not YYYYMMDD: eight bare digits occur by chance in the hex text of stored UUIDs.
        values.update({bd.isoformat(), bd.strftime("%d/%m/%Y")})
        if person.phone:
            values.add(person.phone)
            values.add(re.sub(r"\D", "", person.phone))
        names = {person.given_name, person.family_name, *person.aliases}
        for registration in person.registrations:
            names.update({registration.given_name, registration.family_name})
            rd = registration.birth_date  # as this org recorded it (1 January, day and month...)
            values.update({rd.isoformat(), rd.strftime("%d/%m/%Y")})
            values.add(f"{registration.given_name} {registration.family_name}")
        # A name an organisation wrote in lower case ("pires") is searched as a whole word, like
        # the name keys: as a bare substring it is found inside the schema's own words
        # ("expires_at"), which says nothing about a leak.
        lower = {n for n in names if n.islower()}
        values.update(names - lower)
        keys.update(lower)
        keys.update(normalise_name(n) for n in names)
        values.update(person.notes)
    return (
        {v for v in values if len(v) >= MIN_LENGTH},
        {k for k in keys - values if len(k) >= MIN_LENGTH},
    )


def contexts(raw: bytes, found: Iterable[str], width: int = 40) -> list[str]:
    """Where each found value sits in the searched text (for a failing test's message)."""
    out = []
    for text in _haystacks(raw):
        for value in found:
            at = text.find(value)
            if at >= 0:
                out.append(repr(text[max(0, at - width) : at + len(value) + width]))
    return out[:10]

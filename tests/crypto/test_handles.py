"""Per-organisation handles of pooled people: known answers, scopes, and the way back."""

from __future__ import annotations

from uuid import UUID

import pytest

from databank.crypto.handles import PersonHandles

INDEX_ROOT = bytes(range(32, 64))
ORG = UUID("11111111-1111-4111-8111-111111111111")
PERSON = UUID("33333333-3333-4333-8333-333333333333")
HOLDER = UUID("44444444-4444-4444-8444-444444444444")


@pytest.fixture
def handles() -> PersonHandles:
    """A new instance per test: one built at import, with its ciphers cached, would not run the
    code under test again (mutation testing noticed)."""
    return PersonHandles(INDEX_ROOT)


def test_handles_known_answer(handles: PersonHandles) -> None:
    """A handle is the pooled id enciphered under a key of the viewing org (and, on another org's
    records, of that holder), derived from the index root for handles alone: recorded values, so
    the addresses an org's staff saved keep working and a change of derivation is noticed."""
    assert handles.handle(ORG, PERSON) == UUID("a2850fc2-747e-cf73-8ef8-01acc0e4e552")
    assert handles.handle(ORG, PERSON, HOLDER) == UUID("0831c1d1-2d1b-b3b2-ca5e-2dbf6ec300d5")
    assert handles.handle(ORG, PERSON, ORG) == handles.handle(ORG, PERSON)  # own records


def test_a_handle_leads_back_only_for_the_org_it_was_shown_to(handles: PersonHandles) -> None:
    """The org a handle was shown to turns it back into the person; any other org (or another
    index root) gets an id that is no one, and no two orgs see the same handle."""
    shown = handles.handle(ORG, PERSON)
    assert handles.person(ORG, shown) == PERSON
    assert handles.person(HOLDER, shown) != PERSON
    assert handles.handle(HOLDER, PERSON) != shown
    assert PersonHandles(bytes(32)).handle(ORG, PERSON) != shown
    # A person on another org's records is shown under a key that joins nothing of the viewer's.
    assert handles.person(ORG, handles.handle(ORG, PERSON, HOLDER)) != PERSON


@pytest.mark.parametrize("bad", [bytes(31), "x" * 32])
def test_handles_need_a_32_byte_index_root(handles: PersonHandles, bad: object) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PersonHandles(bad)  # type: ignore[arg-type]
    assert repr(handles) == "PersonHandles()"

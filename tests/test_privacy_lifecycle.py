"""An identity corrected, and its history, leave no name, birth date or phone in clear at rest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from databank.domain.enums import OrgKind, Purpose, Role
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.records import people
from databank.services.records.identity_changes import IdentityCorrection, correct_identity
from tests.factories import identity, intake_record
from tests.privacy import contexts, find_clear_values
from tests.support import migrated_runtime

BEFORE = {
    "given_name": "Ghislaine",
    "family_name": "Vautrinneau",
    "birth_date": date(1961, 8, 17),
    "phone": "+33 6 48 21 97 35",
    "aliases": ("Gigi Vautrin",),
}
AFTER = IdentityCorrection(
    given_name="Ghyslaine",
    family_name="Vautrinot",
    birth_date=date(1961, 7, 18),
    phone="+33 7 55 10 42 86",
    aliases=["La Gigi"],
)


def test_the_identity_history_holds_no_clear_value(tmp_path: Path) -> None:
    """Threat 1: the previous values a correction keeps are sealed like the identity; neither
    the old nor the new values are in the SQLite file or its WAL."""
    url = f"sqlite:///{tmp_path / 'lc.sqlite'}"
    runtime = migrated_runtime(url, tmp_path / "instance")
    with runtime.transaction() as session:
        org = organisations.create_organisation(session, "lc-org", "LC", OrgKind.CHARITY)
        actor = Actor(None, org.id, org.kind, frozenset({Role.OUTREACH_WORKER}), "test")
        [found] = people.intake(
            session, actor, Purpose.OUTREACH, [intake_record(identity(**BEFORE))]
        )
    with runtime.transaction() as session:
        changed = correct_identity(session, actor, Purpose.OUTREACH, found.person_id, AFTER)
    assert set(changed) == {"given_name", "family_name", "birth_date", "phone", "aliases"}
    runtime.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("lc.sqlite"))
    assert b"identity_changes" in raw  # the table is in the file that was searched
    needles = [
        "Ghislaine",
        "Vautrinneau",
        "1961-08-17",
        "+33 6 48 21 97 35",
        "Gigi Vautrin",
        "Ghyslaine",
        "Vautrinot",
        "1961-07-18",
        "+33 7 55 10 42 86",
        "La Gigi",
    ]
    found_clear = find_clear_values(raw, needles)
    assert found_clear == [], contexts(raw, found_clear)

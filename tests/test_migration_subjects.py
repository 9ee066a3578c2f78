"""Migration 0015 makes subjects of the data written before them: every ciphertext still opens.

The data is written at revision 0013 as the code of that time wrote it: one subject key per
(person, org) wrapped under the org key with the person in its AAD, fields sealed with the person
in theirs, linkage rows per identity, a tombstone per erased person.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from databank import db_schema
from databank.crypto import SealingKey, new_key, wrap_subject_key
from databank.domain.enums import LinkReason, OrgKind, Purpose, Role, SubjectStatus
from databank.domain.errors import Erased
from databank.models import ErasureTombstone, Subject
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import IdentityIn, IntakeRecord
from databank.services.keys.keyring import keyring_of
from databank.services.keys.sealing import RowSealer, seal
from databank.services.linkage import clusters
from databank.services.linkage.zone import linkage_of
from databank.services.records import cases, consents, people
from databank.services.runtime import Runtime
from tests.support import scratch_runtime

BIRTH = date(1990, 5, 17)


def _t(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns))


def _old_data(runtime: Runtime) -> dict[str, uuid.UUID]:
    """A person known to two orgs (identity, case, encounter, referral, consent, linkage row)
    and an erased person, written as revision 0013 stored them."""
    now = datetime.now(UTC)
    ids = {k: uuid.uuid4() for k in ("person", "erased", "case", "encounter", "referral")}
    with runtime.transaction() as session:
        orgs = [
            organisations.create_organisation(session, slug, slug.upper(), OrgKind.CHARITY)
            for slug in ("a", "b")
        ]
        ids["a"], ids["b"] = orgs[0].id, orgs[1].id
        keyring = keyring_of(session)
        zone = linkage_of(session)
        conn = session.connection()
        persons = sa.table(
            "persons",
            sa.column("id", sa.Uuid()),
            sa.column("status"),
            sa.column("created_at", sa.DateTime(timezone=True)),
        )
        conn.execute(
            persons.insert(),
            [
                {"id": ids["person"], "status": "active", "created_at": now},
                {"id": ids["erased"], "status": "erased", "created_at": now},
            ],
        )
        for org, person in (
            (orgs[0], ids["person"]),
            (orgs[1], ids["person"]),
            (orgs[0], ids["erased"]),
        ):
            raw = new_key()
            org_key = keyring.active_org_key(session, org.id)
            key = SealingKey(raw, 1)
            if person == ids["person"]:
                conn.execute(
                    sa.table(
                        "subject_keys",
                        *(sa.column(c, sa.Uuid()) for c in ("id", "person_id", "org_id")),
                        sa.column("version"),
                        sa.column("org_key_version"),
                        sa.column("wrapped_key"),
                        sa.column("created_at", sa.DateTime(timezone=True)),
                    ).insert(),
                    {
                        "id": uuid.uuid4(),
                        "person_id": person,
                        "org_id": org.id,
                        "version": 1,
                        "org_key_version": org_key.key_id,
                        "wrapped_key": wrap_subject_key(org_key, raw, org.id, person),
                        "created_at": now,
                    },
                )
            identity_id = uuid.uuid4()
            given = "Amina" if org is orgs[0] else "Aminata"
            sealed = {
                f"{col}_ciphertext": seal(
                    key, "identities", f"{col}_ciphertext", value, org.id, identity_id, person
                )
                for col, value in (
                    ("given_name", given),
                    ("family_name", "Diallo"),
                    ("birth_date", BIRTH.isoformat()),
                )
            }
            bidx = keyring.blind_index(session, org.id, "identities", "name_dob_bidx")
            conn.execute(
                sa.table(
                    "identities",
                    *(sa.column(c, sa.Uuid()) for c in ("id", "person_id", "org_id")),
                    *(sa.column(c) for c in (*sealed, "name_dob_bidx", "bidx_version")),
                    sa.column("created_at", sa.DateTime(timezone=True)),
                ).insert(),
                {
                    "id": identity_id,
                    "person_id": person,
                    "org_id": org.id,
                    **sealed,
                    "name_dob_bidx": bidx.compute(people.search_key("Diallo", BIRTH)),
                    "bidx_version": 1,
                    "created_at": now,
                },
            )
            if person == ids["erased"]:
                continue
            conn.execute(
                sa.table(
                    "linkage_records",
                    *(
                        sa.column(c, sa.Uuid())
                        for c in ("id", "identity_id", "person_id", "org_id")
                    ),
                    sa.column("exact_token"),
                    sa.column("created_at", sa.DateTime(timezone=True)),
                ).insert(),
                {
                    "id": uuid.uuid4(),
                    "identity_id": identity_id,
                    "person_id": person,
                    "org_id": org.id,
                    "exact_token": zone.token(IdentityIn("Amina", "Diallo", BIRTH)),
                    "created_at": now,
                },
            )
            if org is not orgs[0]:
                continue
            case_seal = RowSealer(key, org.id, "cases", ids["case"], person).seal
            conn.execute(
                sa.table(
                    "cases",
                    *(sa.column(c, sa.Uuid()) for c in ("id", "person_id", "org_id")),
                    *(sa.column(c) for c in ("status", "living_situation", "is_minor")),
                    sa.column("is_domestic_abuse_survivor"),
                    sa.column("notes_ciphertext"),
                    sa.column("opened_at", sa.DateTime(timezone=True)),
                    sa.column("created_at", sa.DateTime(timezone=True)),
                ).insert(),
                {
                    "id": ids["case"],
                    "person_id": person,
                    "org_id": org.id,
                    "status": "open",
                    "living_situation": "ethos_1_public_space",
                    "is_minor": False,
                    "is_domestic_abuse_survivor": False,
                    "notes_ciphertext": case_seal("notes_ciphertext", "sleeps by the river"),
                    "opened_at": now,
                    "created_at": now,
                },
            )
            met = RowSealer(key, org.id, "encounters", ids["encounter"], person).seal
            conn.execute(
                sa.table(
                    "encounters",
                    *(sa.column(c, sa.Uuid()) for c in ("id", "case_id", "person_id", "org_id")),
                    sa.column("notes_ciphertext"),
                    sa.column("services_given", sa.JSON()),
                    sa.column("occurred_at", sa.DateTime(timezone=True)),
                    sa.column("created_at", sa.DateTime(timezone=True)),
                ).insert(),
                {
                    "id": ids["encounter"],
                    "case_id": ids["case"],
                    "person_id": person,
                    "org_id": org.id,
                    "notes_ciphertext": met("notes_ciphertext", "met at dawn"),
                    "services_given": [],
                    "occurred_at": now,
                    "created_at": now,
                },
            )
            note = RowSealer(key, org.id, "referrals", ids["referral"], person).seal
            conn.execute(
                sa.table(
                    "referrals",
                    *(sa.column(c, sa.Uuid()) for c in ("id", "case_id", "person_id")),
                    *(sa.column(c, sa.Uuid()) for c in ("from_org_id", "to_org_id")),
                    *(sa.column(c) for c in ("purpose", "status", "note_ciphertext")),
                    sa.column("created_at", sa.DateTime(timezone=True)),
                ).insert(),
                {
                    "id": ids["referral"],
                    "case_id": ids["case"],
                    "person_id": person,
                    "from_org_id": org.id,
                    "to_org_id": orgs[1].id,
                    "purpose": "outreach",
                    "status": "pending",
                    "note_ciphertext": note("note_ciphertext", "a bed tonight"),
                    "created_at": now,
                },
            )
            conn.execute(
                sa.table(
                    "consents",
                    *(sa.column(c, sa.Uuid()) for c in ("id", "person_id", "org_id")),
                    *(sa.column(c, sa.JSON()) for c in ("recipient_org_ids", "purposes")),
                    sa.column("recipient_org_kinds", sa.JSON()),
                    sa.column("given_at", sa.DateTime(timezone=True)),
                    sa.column("created_at", sa.DateTime(timezone=True)),
                ).insert(),
                {
                    "id": uuid.uuid4(),
                    "person_id": person,
                    "org_id": org.id,
                    "recipient_org_ids": [str(orgs[1].id)],
                    "recipient_org_kinds": [],
                    "purposes": ["outreach"],
                    "given_at": now,
                    "created_at": now,
                },
            )
        conn.execute(
            sa.table(
                "erasure_tombstones",
                *(sa.column(c, sa.Uuid()) for c in ("id", "person_id", "requested_by_org_id")),
                sa.column("reason"),
                sa.column("erased_at", sa.DateTime(timezone=True)),
            ).insert(),
            {
                "id": uuid.uuid4(),
                "person_id": ids["erased"],
                "requested_by_org_id": orgs[0].id,
                "reason": "subject_request",
                "erased_at": now,
            },
        )
    return ids


def _reads(runtime: Runtime, ids: dict[str, uuid.UUID]) -> None:
    """Everything written at 0013 opens through today's services."""
    worker = {
        o: Actor(None, ids[o], OrgKind.CHARITY, frozenset({Role.OUTREACH_WORKER}), "t")
        for o in "ab"
    }
    with runtime.transaction() as session:
        for org, given in (("a", "Amina"), ("b", "Aminata")):
            view = people.read_identity(session, worker[org], Purpose.OUTREACH, ids["person"])
            assert (view.given_name, view.family_name, view.birth_date) == (given, "Diallo", BIRTH)
        case = cases.read_case(session, worker["a"], Purpose.OUTREACH, ids["case"])
        assert case.notes == "sleeps by the river"
        assert [e.notes for e in case.encounters] == ["met at dawn"]
        subject = session.scalars(
            sa.select(Subject).where(Subject.person_id == ids["person"], Subject.org_id == ids["a"])
        ).one()
        key = keyring_of(session).subject_key_for(session, ids["a"], subject.id)
        blob = session.execute(sa.text("SELECT note_ciphertext FROM referrals")).scalar_one()
        opener = RowSealer(key, ids["a"], "referrals", ids["referral"], subject.binding)
        assert opener.open("note_ciphertext", blob) == "a bed tonight"
        assert (
            len(consents.consents_for(session, worker["a"], Purpose.OUTREACH, ids["person"])) == 1
        )
        with pytest.raises(Erased):
            people.read_identity(session, worker["a"], Purpose.OUTREACH, ids["erased"])


def test_0015_makes_subjects_of_the_data_before_it_and_every_ciphertext_still_opens(
    tmp_path: Path,
) -> None:
    """Subjects are made of every (person, org) with binding = person: identities, keys, cases,
    encounters, referrals and consents written before still open; erased stays erased; the
    exact linkage still pools; a downgrade round trip keeps the data, and one that would lose
    data (a subject bound to its own id) is refused."""
    runtime = scratch_runtime("databank_subjects_migration", tmp_path, revision="0013")
    ids = _old_data(runtime)
    db_schema.upgrade(runtime.engine)
    with runtime.transaction() as session:
        made = session.scalars(sa.select(Subject)).all()
        assert len(made) == 3
        assert all(s.binding == s.person_id for s in made)
        erased = [s for s in made if s.person_id == ids["erased"]]
        assert [s.status for s in erased] == [SubjectStatus.ERASED]
        assert session.scalars(sa.select(ErasureTombstone.subject_id)).all() == [erased[0].id]
        for s in made:
            assert [h.reason for h in clusters.history(session, s.id)] == [LinkReason.ENROLLED]
    _reads(runtime, ids)

    db_schema.downgrade(runtime.engine, "0013")
    with runtime.engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT count(*) FROM identities WHERE person_id IS NOT NULL")
            ).scalar_one()
            == 3
        )
    db_schema.upgrade(runtime.engine)
    _reads(runtime, ids)

    with runtime.transaction() as session:
        worker = Actor(None, ids["a"], OrgKind.CHARITY, frozenset({Role.OUTREACH_WORKER}), "t")
        [again] = people.intake(
            session, worker, Purpose.OUTREACH, [IntakeRecord(IdentityIn("Amina", "Diallo", BIRTH))]
        )
        assert (again.outcome, again.person_id) == ("existing", ids["person"])
        org_c = organisations.create_organisation(session, "c", "C", OrgKind.COUNCIL)
        worker_c = Actor(None, org_c.id, OrgKind.COUNCIL, frozenset({Role.OUTREACH_WORKER}), "t")
        [new] = people.intake(
            session,
            worker_c,
            Purpose.OUTREACH,
            [IntakeRecord(IdentityIn("Amina", "Diallo", BIRTH))],
        )
        assert (new.outcome, new.person_id) == ("created", ids["person"])  # pooled, exact token
    with pytest.raises(RuntimeError, match="cannot downgrade below subjects"):
        db_schema.downgrade(runtime.engine, "0013")
    runtime.engine.dispose()

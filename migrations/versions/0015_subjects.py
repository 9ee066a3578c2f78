"""Subjects: each organisation's record of someone, between the pooled person and its data.

Reviewed by hand. Before, every per-org row (identity, subject key, case, consent; encounters and
referrals through copies) named the pooled person, and every ciphertext's AAD bound that person
id, so linkage could not merge or split people without re-encrypting. Now:

- `subjects` (id, org, pooled person, binding, status): one per distinct (person, org) of the
  data already there, with `binding` = that person id, so every existing ciphertext and wrapped
  subject key still opens (their AAD named the person; it now names the binding, same bytes).
- identities, subject_keys, cases and consents reference the subject (`subject_id`) instead of
  the person; encounters and referrals lose their copy (their case names the subject). The
  unique (person, org) of identities goes: an org may hold two subjects of one person.
- persons gain `merged_into_id` and the `merged` status; linkage_records key on the subject;
  `link_history` records every change of a subject's person (migrated subjects get their
  "enrolled" row); erasure tombstones become one per subject.

Downgrade restores the person columns from the subjects, and refuses (raising) when that would
lose data: a subject whose binding is not its person (made after this revision, or moved by a
merge or split) holds ciphertexts the old schema cannot open, and two subjects of one person
in one org do not fit the old unique (person, org).

Revision ID: 0015
Revises: 0014
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERSON_BEFORE = ("active", "erased")
PERSON_AFTER = (*PERSON_BEFORE, "merged")
SUBJECT_STATUS = ("active", "erased", "merged")
LINK_REASONS = (
    "enrolled",
    "cluster_merge",
    "cluster_split",
    "manual_link",
    "manual_split",
    "own_records_merged",
    "erased",
)
# Tables whose rows named (person, org) and now name the subject.
SUBJECT_TABLES = ("identities", "subject_keys", "cases", "consents")
CHUNK = 1000


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _persons_status(values: tuple[str, ...]) -> None:
    # SQLite cannot alter a CHECK in place: the table is rebuilt. PostgreSQL alters it in place
    # (rebuilding would drop the primary key other tables' foreign keys depend on).
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "persons", schema=None, recreate="always" if sqlite else "auto"
    ) as batch_op:
        batch_op.drop_constraint(op.f("ck_persons_personstatus"), type_="check")
        batch_op.create_check_constraint("personstatus", sa.column("status").in_(values))


def _table(name: str, *columns: str) -> sa.TableClause:
    """A lightweight table with Uuid-typed id columns, so values bind the same on both drivers."""
    return sa.table(name, *(sa.column(c, sa.Uuid()) for c in columns))


def upgrade() -> None:
    bind = op.get_bind()
    _persons_status(PERSON_AFTER)
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_persons_merged_into_id_persons"), "persons", ["merged_into_id"], ["id"]
        )
    op.create_table(
        "subjects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("binding", sa.Uuid(), nullable=False),
        sa.Column("status", _enum("subjectstatus", SUBJECT_STATUS), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_subjects_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_subjects_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
    )
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subjects_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_subjects_person_id_org_id", ["person_id", "org_id"])
    op.create_table(
        "link_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("from_person_id", sa.Uuid(), nullable=True),
        sa.Column("to_person_id", sa.Uuid(), nullable=True),
        sa.Column("reason", _enum("linkreason", LINK_REASONS), nullable=False),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_link_history_actor_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["from_person_id"], ["persons.id"], name=op.f("fk_link_history_from_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_link_history_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["to_person_id"], ["persons.id"], name=op.f("fk_link_history_to_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_history")),
    )
    with op.batch_alter_table("link_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_history_subject_id"), ["subject_id"])

    _make_subjects(bind)

    for name in SUBJECT_TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("subject_id", sa.Uuid(), nullable=True))
        op.execute(
            sa.text(
                f"UPDATE {name} SET subject_id = (SELECT s.id FROM subjects s "  # noqa: S608 - fixed names
                f"WHERE s.person_id = {name}.person_id AND s.org_id = {name}.org_id)"
            )
        )
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_identities_person_id_org_id"), type_="unique")
        batch_op.drop_constraint(op.f("fk_identities_person_id_persons"), type_="foreignkey")
        batch_op.drop_column("person_id")
        batch_op.alter_column("subject_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_identities_subject_id"), ["subject_id"])
        batch_op.create_foreign_key(
            op.f("fk_identities_subject_id_subjects"), "subjects", ["subject_id"], ["id"]
        )
    with op.batch_alter_table("subject_keys", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_subject_keys_person_id_org_id_version"), type_="unique")
        batch_op.drop_constraint(op.f("fk_subject_keys_person_id_persons"), type_="foreignkey")
        batch_op.drop_column("person_id")
        batch_op.alter_column("subject_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_unique_constraint(
            op.f("uq_subject_keys_subject_id_version"), ["subject_id", "version"]
        )
        batch_op.create_foreign_key(
            op.f("fk_subject_keys_subject_id_subjects"), "subjects", ["subject_id"], ["id"]
        )
    for name in ("cases", "consents"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{name}_person_id"))
            batch_op.drop_constraint(op.f(f"fk_{name}_person_id_persons"), type_="foreignkey")
            batch_op.drop_column("person_id")
            batch_op.alter_column("subject_id", existing_type=sa.Uuid(), nullable=False)
            batch_op.create_index(batch_op.f(f"ix_{name}_subject_id"), ["subject_id"])
            batch_op.create_foreign_key(
                op.f(f"fk_{name}_subject_id_subjects"), "subjects", ["subject_id"], ["id"]
            )
    for name in ("encounters", "referrals"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{name}_person_id"))
            batch_op.drop_constraint(op.f(f"fk_{name}_person_id_persons"), type_="foreignkey")
            batch_op.drop_column("person_id")

    with op.batch_alter_table("linkage_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_id", sa.Uuid(), nullable=True))
    op.execute(
        sa.text(
            "UPDATE linkage_records SET subject_id = (SELECT i.subject_id FROM identities i "
            "WHERE i.id = linkage_records.identity_id)"
        )
    )
    with op.batch_alter_table("linkage_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_linkage_records_person_id"))
        batch_op.drop_constraint(op.f("uq_linkage_records_identity_id"), type_="unique")
        batch_op.drop_constraint(
            op.f("fk_linkage_records_identity_id_identities"), type_="foreignkey"
        )
        batch_op.drop_constraint(op.f("fk_linkage_records_person_id_persons"), type_="foreignkey")
        batch_op.drop_column("identity_id")
        batch_op.drop_column("person_id")
        batch_op.alter_column("subject_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_linkage_records_subject_id"), ["subject_id"])
        batch_op.create_foreign_key(
            op.f("fk_linkage_records_subject_id_subjects"), "subjects", ["subject_id"], ["id"]
        )

    _tombstones_per_subject(bind)


def _make_subjects(bind: sa.Connection) -> None:
    """One subject per distinct (person, org) of the data, bound to that person id."""
    pairs: dict[tuple[uuid.UUID, uuid.UUID], datetime | None] = {}
    for name in SUBJECT_TABLES:
        t = sa.table(
            name,
            sa.column("person_id", sa.Uuid()),
            sa.column("org_id", sa.Uuid()),
            sa.column("created_at", sa.DateTime(timezone=True)),
        )
        query = sa.select(t.c.person_id, t.c.org_id, sa.func.min(t.c.created_at)).group_by(
            t.c.person_id, t.c.org_id
        )
        for person_id, org_id, at in bind.execute(query):
            known = pairs.get((person_id, org_id))
            pairs[(person_id, org_id)] = at if known is None or (at and at < known) else known
    persons = sa.table(
        "persons",
        sa.column("id", sa.Uuid()),
        sa.column("status", sa.String()),
        sa.column("erased_at", sa.DateTime(timezone=True)),
    )
    erased = {
        p: at
        for p, status, at in bind.execute(sa.select(persons.c.id, persons.c.status, persons.c.erased_at))
        if status == "erased"
    }
    now = datetime.now(UTC)
    subjects, history = [], []
    for (person_id, org_id), at in sorted(pairs.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        subject_id = uuid.uuid4()
        created = at or now
        subjects.append(
            {
                "id": subject_id,
                "org_id": org_id,
                "person_id": person_id,
                "binding": person_id,  # what its ciphertexts' AAD already names
                "status": "erased" if person_id in erased else "active",
                "created_at": created,
                "erased_at": erased.get(person_id),
            }
        )
        history.append(
            {
                "id": uuid.uuid4(),
                "subject_id": subject_id,
                "from_person_id": None,
                "to_person_id": person_id,
                "reason": "enrolled",
                "actor_user_id": None,
                "at": created,
            }
        )
    subjects_t = sa.table(
        "subjects",
        *(sa.column(c, sa.Uuid()) for c in ("id", "org_id", "person_id", "binding")),
        sa.column("status", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("erased_at", sa.DateTime(timezone=True)),
    )
    history_t = sa.table(
        "link_history",
        *(sa.column(c, sa.Uuid()) for c in ("id", "subject_id", "from_person_id", "to_person_id")),
        sa.column("reason", sa.String()),
        sa.column("actor_user_id", sa.Uuid()),
        sa.column("at", sa.DateTime(timezone=True)),
    )
    for start in range(0, len(subjects), CHUNK):
        bind.execute(subjects_t.insert(), subjects[start : start + CHUNK])
        bind.execute(history_t.insert(), history[start : start + CHUNK])


def _tombstone_table(key: str) -> sa.TableClause:
    return sa.table(
        "erasure_tombstones",
        *(sa.column(c, sa.Uuid()) for c in ("id", key, "requested_by_org_id", "requested_by_id")),
        sa.column("reason", sa.String()),
        sa.column("erased_at", sa.DateTime(timezone=True)),
    )


def _tombstones_per_subject(bind: sa.Connection) -> None:
    """A person's tombstone becomes one per subject of that person."""
    old = _tombstone_table("person_id")
    rows = [dict(r._mapping) for r in bind.execute(sa.select(old))]
    subjects = _table("subjects", "id", "person_id")
    of_person: dict[uuid.UUID, list[uuid.UUID]] = {}
    for subject_id, person_id in bind.execute(sa.select(subjects.c.id, subjects.c.person_id)):
        of_person.setdefault(person_id, []).append(subject_id)
    op.execute(sa.text("DELETE FROM erasure_tombstones"))
    with op.batch_alter_table("erasure_tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasure_tombstones_person_id"))
        batch_op.drop_column("person_id")
        batch_op.add_column(sa.Column("subject_id", sa.Uuid(), nullable=False))
        batch_op.create_index(
            batch_op.f("ix_erasure_tombstones_subject_id"), ["subject_id"], unique=True
        )
    new = [
        {**{k: v for k, v in row.items() if k != "person_id"}, "id": uuid.uuid4(), "subject_id": s}
        for row in rows
        for s in of_person.get(row["person_id"], [])
    ]
    if new:
        bind.execute(_tombstone_table("subject_id").insert(), new)


def downgrade() -> None:
    bind = op.get_bind()
    subjects = _table("subjects", "id", "org_id", "person_id", "binding")
    moved = bind.execute(
        sa.select(sa.func.count()).where(subjects.c.binding != subjects.c.person_id)
    ).scalar_one()
    doubles = bind.execute(
        sa.select(sa.func.count()).select_from(
            sa.select(subjects.c.person_id, subjects.c.org_id)
            .group_by(subjects.c.person_id, subjects.c.org_id)
            .having(sa.func.count() > 1)
            .subquery()
        )
    ).scalar_one()
    if moved or doubles:
        raise RuntimeError(
            f"cannot downgrade below subjects: {moved} subjects are bound to another id than "
            f"their person and {doubles} (person, org) pairs have two subjects; their data "
            "would not open under the old schema"
        )
    old = _tombstone_table("subject_id")
    rows = [dict(r._mapping) for r in bind.execute(sa.select(old))]
    person_of = {s: p for s, p in bind.execute(sa.select(subjects.c.id, subjects.c.person_id))}
    op.execute(sa.text("DELETE FROM erasure_tombstones"))
    with op.batch_alter_table("erasure_tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasure_tombstones_subject_id"))
        batch_op.drop_column("subject_id")
        batch_op.add_column(sa.Column("person_id", sa.Uuid(), nullable=False))
        batch_op.create_index(
            batch_op.f("ix_erasure_tombstones_person_id"), ["person_id"], unique=True
        )
    once: dict[uuid.UUID, dict[str, object]] = {}
    for row in rows:
        person = person_of[row["subject_id"]]
        once.setdefault(person, {**{k: v for k, v in row.items() if k != "subject_id"}, "person_id": person})
    if once:
        bind.execute(_tombstone_table("person_id").insert(), list(once.values()))

    with op.batch_alter_table("linkage_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("person_id", sa.Uuid(), nullable=True))
    op.execute(
        sa.text(
            "UPDATE linkage_records SET identity_id = (SELECT i.id FROM identities i "
            "WHERE i.subject_id = linkage_records.subject_id), person_id = (SELECT s.person_id "
            "FROM subjects s WHERE s.id = linkage_records.subject_id)"
        )
    )
    with op.batch_alter_table("linkage_records", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_linkage_records_subject_id_subjects"), type_="foreignkey")
        batch_op.drop_constraint(op.f("uq_linkage_records_subject_id"), type_="unique")
        batch_op.drop_column("subject_id")
        batch_op.alter_column("identity_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.alter_column("person_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_linkage_records_identity_id"), ["identity_id"])
        batch_op.create_foreign_key(
            op.f("fk_linkage_records_identity_id_identities"), "identities", ["identity_id"], ["id"]
        )
        batch_op.create_foreign_key(
            op.f("fk_linkage_records_person_id_persons"), "persons", ["person_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_linkage_records_person_id"), ["person_id"])

    for name in ("encounters", "referrals"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("person_id", sa.Uuid(), nullable=True))
        op.execute(
            sa.text(
                f"UPDATE {name} SET person_id = (SELECT s.person_id FROM cases c JOIN subjects s "  # noqa: S608 - fixed names
                f"ON s.id = c.subject_id WHERE c.id = {name}.case_id)"
            )
        )
    for name in (*SUBJECT_TABLES, "encounters", "referrals"):
        if name in SUBJECT_TABLES:
            with op.batch_alter_table(name, schema=None) as batch_op:
                batch_op.add_column(sa.Column("person_id", sa.Uuid(), nullable=True))
            op.execute(
                sa.text(
                    f"UPDATE {name} SET person_id = (SELECT s.person_id FROM subjects s "  # noqa: S608 - fixed names
                    f"WHERE s.id = {name}.subject_id)"
                )
            )
        with op.batch_alter_table(name, schema=None) as batch_op:
            if name in SUBJECT_TABLES:
                batch_op.drop_constraint(op.f(f"fk_{name}_subject_id_subjects"), type_="foreignkey")
                if name == "identities":
                    batch_op.drop_constraint(op.f("uq_identities_subject_id"), type_="unique")
                elif name == "subject_keys":
                    batch_op.drop_constraint(
                        op.f("uq_subject_keys_subject_id_version"), type_="unique"
                    )
                else:
                    batch_op.drop_index(batch_op.f(f"ix_{name}_subject_id"))
                batch_op.drop_column("subject_id")
            batch_op.alter_column("person_id", existing_type=sa.Uuid(), nullable=False)
            batch_op.create_foreign_key(
                op.f(f"fk_{name}_person_id_persons"), "persons", ["person_id"], ["id"]
            )
            if name == "identities":
                batch_op.create_unique_constraint(
                    op.f("uq_identities_person_id_org_id"), ["person_id", "org_id"]
                )
            elif name == "subject_keys":
                batch_op.create_unique_constraint(
                    op.f("uq_subject_keys_person_id_org_id_version"),
                    ["person_id", "org_id", "version"],
                )
            else:
                batch_op.create_index(batch_op.f(f"ix_{name}_person_id"), ["person_id"])

    with op.batch_alter_table("link_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_history_subject_id"))
    op.drop_table("link_history")
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.drop_index("ix_subjects_person_id_org_id")
        batch_op.drop_index(batch_op.f("ix_subjects_org_id"))
    op.drop_table("subjects")
    op.execute(sa.text("UPDATE persons SET status = 'active' WHERE status = 'merged'"))
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_persons_merged_into_id_persons"), type_="foreignkey")
        batch_op.drop_column("merged_into_id")
    _persons_status(PERSON_BEFORE)

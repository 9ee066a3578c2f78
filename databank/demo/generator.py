"""Loads the reproducible demo city through the services, as its staff would.

`load_demo` registers the people of `generate_population` (population.py) org by org with batch
intake, each registration a subject, keeps the truth of which subjects are the same demo person,
and measures the pool against it (linkage_figures.py).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.config import DEMO_AREAS_FILE
from databank.demo import cast as d
from databank.demo import history, linkage_figures
from databank.demo.cast import DEMO_PASSWORD, DemoPerson, DemoSummary
from databank.demo.population import generate_population
from databank.domain.areas import Area, Areas
from databank.domain.areas_file import load_areas
from databank.domain.enums import OrgKind, Purpose, Role
from databank.domain.errors import Conflict
from databank.models import Organisation
from databank.services import inputs
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import CaseIn, ConsentIn, EncounterIn, IdentityIn, Point
from databank.services.linkage import runs
from databank.services.records import cases, consents
from databank.services.records.people import intake

__all__ = ["DEMO_PASSWORD", "DemoPerson", "DemoSummary", "generate_population", "load_demo"]

BATCH = 300  # records per intake call: one bulk insert per table each


def load_demo(
    session: Session,
    people: int = 2000,
    seed: int = 42,
    password: str = DEMO_PASSWORD,
    areas: Areas | None = None,
) -> DemoSummary:
    """Load the demo city in the caller's transaction, which the caller commits.

    Its people are met in the `areas` (the deployment's; by default the demo's, Lyon's).
    Refuses a databank that already has organisations: the demo is for a fresh instance.
    """
    areas = areas or load_areas(DEMO_AREAS_FILE)
    if session.execute(select(Organisation.id).limit(1)).first() is not None:
        raise Conflict("the databank already has organisations; use a fresh instance for the demo")
    population = generate_population(people, seed, areas)
    made = {
        o.slug: organisations.create_organisation(
            session, o.slug, o.name, o.kind, f"dpo@{o.slug}.example"
        )
        for o in d.ORGS
    }
    logins: list[tuple[str, Role, str]] = []
    workers: dict[str, Actor] = {}
    for slug, prefix, role, title in [(o, *s) for o in made for s in d.STAFF] + [*d.SPECIAL_STAFF]:
        org, username = made[slug], f"{prefix}@{slug}"
        user = organisations.create_user(
            session, org, username, f"{title} — {org.name}", password, [role]
        )
        logins.append((username, role, slug))
        if role is _intake_role(org.kind):
            workers[slug] = Actor(user.id, org.id, org.kind, frozenset({role}), "cli")
    session.flush()  # intake's Core inserts name these users: their rows must exist first
    now = datetime.now(UTC)
    tally: Counter[str] = Counter()
    # The truth: which demo person (their index) and org each subject is. A registration intake
    # folded into the org's existing subject (same exact identifiers) adds no subject.
    truth: dict[uuid.UUID, tuple[int, str]] = {}
    episodes: list[history.Episode] = []
    for spec in d.ORGS:
        actor = workers[spec.slug]
        purpose = _PURPOSE[_intake_role(spec.kind)]
        mine = [
            (i, p, r)
            for i, p in enumerate(population)
            for r in p.registrations
            if r.org == spec.slug
        ]
        for start in range(0, len(mine), BATCH):
            batch = mine[start : start + BATCH]
            records = [_record(person, reg, now, areas) for _, person, reg in batch]
            # Each registration is an episode of its own (some closed long ago): its own case.
            results = intake(session, actor, purpose, records, to_open_case=False)
            for (index, _, reg), record, result in zip(batch, records, results, strict=True):
                tally["encounters"] += len(record.encounters)
                # A need seen again at an encounter is the case's same need (open_needs.py).
                seen = [n.category for n in record.needs]
                seen += [n.category for e in record.encounters for n in e.needs]
                tally["needs"] += len(set(seen))
                if result.subject_id is not None:
                    truth.setdefault(result.subject_id, (index, spec.slug))
                opened = record.case.opened_at if record.case else None
                episode = None
                if result.case_id is not None and opened is not None:
                    protected = record.case is not None and (
                        record.case.is_minor or record.case.is_domestic_abuse_survivor
                    )
                    episode = history.Episode(
                        spec.slug, purpose, result.case_id, opened, protected=protected
                    )
                if reg.consent is not None:
                    given_at = _at(now, reg.opened_days_ago, 7)
                    _consent(session, actor, purpose, made, result.person_id, reg.consent, given_at)
                    tally["consents"] += 1
                    tally["revoked"] += reg.consent.is_revoked
                if reg.referral is not None and result.case_id is not None:
                    ref, to = reg.referral, made[reg.referral.to_org].id
                    # As a worker would: the person agrees to this referral, recorded first.
                    referral_consent = ConsentIn(
                        purposes=(ref.purpose,), recipient_org_ids=(to,), given_at=now
                    )
                    consents.record_consent(
                        session, actor, purpose, result.person_id, referral_consent
                    )
                    tally["consents"] += 1
                    sent = min(now, (opened or now) + timedelta(days=1 + index % 4))
                    referral_id = cases.refer(
                        session, actor, purpose, result.case_id, to, ref.purpose, ref.need,
                        ref.note, sent_at=sent,
                    )  # fmt: skip
                    tally["referrals"] += 1
                    if episode is not None:
                        episode = replace(
                            episode, referral_id=referral_id, referred_to=ref.to_org, sent_at=sent
                        )
                if episode is not None:
                    episodes.append(episode)
            tally["registrations"] += len(batch)
    # What happened next: needs met, referrals answered, cases closed, on their dates.
    tally.update(history.play(session, workers, episodes, now, seed))
    # ---- LINKAGE BATCH RUN (issue 16, point 5) -------------------------------------------------
    # The pool the figures measure is built by the real linkage: one batch run over every
    # subject (intake pooled exact tokens only). Without it, the figures measure exact tokens.
    report = runs.run_batch(session, None)
    method = (
        f"one linkage batch run, {report.model} model, {report.seconds:.1f} s;"
        f" {report.reviews_open} pairs left for review"
    )
    # ----------------------------------------------------------------------------------------------
    figures = linkage_figures.measure(session, truth)
    return DemoSummary(
        organisations=len(made),
        users=len(logins),
        registrations=tally["registrations"],
        persons=figures.pooled_persons,
        known_to_several=figures.pooled_across_orgs,
        cases=tally["registrations"],  # one case per registration
        encounters=tally["encounters"],
        needs=tally["needs"],
        consents=tally["consents"],
        consents_revoked=tally["revoked"],
        referrals=tally["referrals"],
        logins=tuple(logins),
        password=password,
        linkage=figures,
        linkage_method=method,
        truth=truth,
    )


_PURPOSE = {Role.OUTREACH_WORKER: Purpose.OUTREACH, Role.HOUSING_OFFICER: Purpose.CASE_MANAGEMENT}


def _intake_role(kind: OrgKind) -> Role:
    """Who registers people: the housing officer at a housing provider, outreach elsewhere."""
    return Role.HOUSING_OFFICER if kind is OrgKind.HOUSING_PROVIDER else Role.OUTREACH_WORKER


def _at(now: datetime, days_ago: int, hour: int, minute: int = 0) -> datetime:
    """A time `days_ago` (at least 1) days before now, at the given UTC hour: always in the past."""
    return (now - timedelta(days=days_ago)).replace(
        hour=hour, minute=minute, second=0, microsecond=0
    )


def _district(area: Area, point: Point | None) -> str | None:
    """The district cell when no precise point was recorded (a point gives its own)."""
    return area.cell if point is None else None


def _record(
    person: DemoPerson, reg: d.DemoRegistration, now: datetime, areas: Areas
) -> inputs.IntakeRecord:
    identity = IdentityIn(
        reg.given_name,
        reg.family_name,
        reg.birth_date,
        person.sex,
        person.aliases,
        reg.birth_place,
        person.phone,
    )
    opened = _at(now, reg.opened_days_ago, 6)
    case = CaseIn(
        living_situation=reg.living_situation,
        hud_living_situation=reg.hud_living_situation,
        opened_at=opened,
        is_minor=person.age_on(opened.date()) < 18,
        is_domestic_abuse_survivor=reg.is_domestic_abuse_survivor,
        district=_district(areas.by_code[reg.district], reg.point),
        point=reg.point,
        notes=reg.case_note,
    )
    encounters = [
        EncounterIn(
            occurred_at=_at(now, e.days_ago, e.hour, e.minute),
            needs=e.needs,
            services_given=e.services,
            district=_district(areas.by_code[e.district], e.point),
            point=e.point,
            notes=e.notes,
        )
        for e in reg.encounters
    ]
    return inputs.IntakeRecord(identity, case, reg.needs, encounters)


def _consent(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    made: Mapping[str, Organisation],
    person_id: uuid.UUID,
    spec: d.DemoConsent,
    given_at: datetime,
) -> None:
    """Record a registration's consent, then its withdrawal if the person withdrew it."""
    expires_at = None
    if spec.expires_in_days is not None:
        expires_at = datetime.now(UTC) + timedelta(days=spec.expires_in_days)
    consent = ConsentIn(
        purposes=spec.purposes,
        recipient_org_ids=[made[slug].id for slug in spec.recipient_orgs],
        recipient_org_kinds=[kind.value for kind in spec.recipient_kinds],
        expires_at=expires_at,
        given_at=given_at,
    )
    consent_id = consents.record_consent(session, actor, purpose, person_id, consent)
    if spec.is_revoked:
        consents.revoke_consent(session, actor, purpose, consent_id)

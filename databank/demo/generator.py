"""Generates a reproducible demo city and loads it through the services, as its staff would.

`generate_population` is pure (no database, no clock): the same arguments give the same people, so
tests can check that none of their clear values reaches the database. `load_demo` registers them
org by org with batch intake, which pools a person known to several orgs into one pseudonym.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session
from unidecode import unidecode

from databank.config import DEMO_AREAS_FILE
from databank.demo import cast as d
from databank.demo.cast import DEMO_PASSWORD, DemoPerson, DemoSummary
from databank.domain.areas import Area, Areas
from databank.domain.areas_file import load_areas
from databank.domain.enums import NeedSeverity, OrgKind, Purpose, Role, Sex
from databank.domain.errors import Conflict
from databank.domain.names import name_key
from databank.domain.vocab import ETHOS_GROUP, EthosCategory, NeedCategory, hud_codes_for
from databank.models import Organisation
from databank.services import inputs
from databank.services.accounts import organisations
from databank.services.actors import Actor
from databank.services.inputs import CaseIn, ConsentIn, EncounterIn, IdentityIn, NeedIn, Point
from databank.services.records import cases, consents
from databank.services.records.people import intake

__all__ = ["DEMO_PASSWORD", "DemoPerson", "DemoSummary", "generate_population", "load_demo"]

BATCH = 300  # records per intake call: one bulk insert per table each
T = TypeVar("T")


def _pick(rng: random.Random, weighted: Mapping[T, float]) -> T:
    """One key, drawn with probability proportional to its weight."""
    return rng.choices(list(weighted), list(weighted.values()))[0]


def generate_population(people: int, seed: int, areas: Areas | None = None) -> list[DemoPerson]:
    """`people` distinct people (no two share a linkage key), depending on the seed (and the
    areas they are met in: the deployment's, by default the demo's Lyon) only."""
    areas = areas or load_areas(DEMO_AREAS_FILE)
    rng = random.Random(seed)  # noqa: S311 - synthetic demo data, not security
    fakers = {locale: Faker(locale) for locale in ("fr_FR", "en_GB")}
    for fake in fakers.values():
        fake.seed_instance(seed)
    seen: set[tuple[str, str, date]] = set()
    return [_person(rng, fakers, seen, areas) for _ in range(people)]


def _person(
    rng: random.Random, fakers: Mapping[str, Faker], seen: set[tuple[str, str, date]], areas: Areas
) -> DemoPerson:
    locale = "fr_FR" if rng.random() < 0.7 else "en_GB"
    fake = fakers[locale]
    sex = _pick(rng, {Sex.MALE: 66, Sex.FEMALE: 30, Sex.OTHER: 2, Sex.UNKNOWN: 2})
    named = sex if sex in (Sex.MALE, Sex.FEMALE) else rng.choice((Sex.MALE, Sex.FEMALE))
    roll = rng.random()
    if roll < 0.12:
        given = rng.choice(d.ELSEWHERE_GIVEN[named])
    elif roll < 0.2 and locale == "fr_FR":
        given = rng.choice(d.COMPOUND_GIVEN[named])
    else:
        given = fake.first_name_male() if named is Sex.MALE else fake.first_name_female()
    roll = rng.random() / 2 if roll < 0.12 else rng.random()  # names from elsewhere go together
    if roll < 0.1:
        family = rng.choice(d.ELSEWHERE_FAMILY)
    elif roll < 0.18:
        family = rng.choice(d.PARTICLE_FAMILY)
    else:
        family = fake.last_name()
    roll = rng.random()
    if roll < 0.05:  # minors of 16 or 17
        days = rng.randint(16 * 365 + 4, 17 * 365 + 180)
    elif roll < 0.11:
        days = int(rng.uniform(66, 82) * 365.25)
    else:
        days = int(rng.triangular(18.1, 65.9, 34) * 365.25)
    birth = d.REFERENCE_DATE - timedelta(days=days)
    while (name_key(given), name_key(family), birth) in seen:  # one linkage key per person
        birth -= timedelta(days=1)
    seen.add((name_key(given), name_key(family), birth))
    phone = None
    if rng.random() < 0.5:
        mobile, digits = rng.choice("67"), " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4))
        phone = f"+33 {mobile} {digits}" if rng.random() < 0.2 else f"0{mobile} {digits}"
    aliases = tuple(rng.sample(d.ALIASES, rng.choice((1, 1, 2)))) if rng.random() < 0.1 else ()
    birth_place = fake.city() if rng.random() < 0.3 else None
    known_by: list[str] = []
    for _ in range(_pick(rng, {1: 60, 2: 28, 3: 10, 4: 2})):
        known_by.append(_pick(rng, {o.slug: o.weight for o in d.ORGS if o.slug not in known_by}))
    ethos, district = _ethos(rng, sex), _pick(rng, _weights(areas))
    english = 0.5 if locale == "en_GB" else 0.1
    registrations: list[d.DemoRegistration] = []
    for spec in (o for o in d.ORGS if o.slug in known_by):  # in the order the demo loads orgs
        spelling = (given, family)
        if registrations:  # another org writes the name its own way
            spelling = (_variant(rng, given), _variant(rng, family))
        registrations.append(
            _registration(
                rng,
                spec,
                spelling,
                given,
                sex,
                ethos if rng.random() < 0.8 else _ethos(rng, sex),
                district if rng.random() < 0.75 else _pick(rng, _weights(areas)),
                rng.random() < english,
                known_by,
                areas,
            )
        )
    return DemoPerson(
        given, family, birth, sex, phone, aliases, birth_place, locale, tuple(registrations)
    )


def _variant(rng: random.Random, name: str) -> str:
    """Another spelling of the name that normalises to the same key, so pooling still finds it."""
    if rng.random() < 0.35:
        return name
    swapped = name.replace("-", " ") if "-" in name else name.replace(" ", "-")
    options = (name.upper(), unidecode(name), unidecode(name).upper(), swapped, name.lower())
    same = [o for o in options if o != name and name_key(o) == name_key(name)]
    return rng.choice(same) if same else name


def _ethos(rng: random.Random, sex: Sex) -> EthosCategory:
    ethos = _pick(rng, d.ETHOS_WEIGHTS)
    if ethos is EthosCategory.ETHOS_4_WOMENS_SHELTER and sex is not Sex.FEMALE:
        return EthosCategory.ETHOS_2_NIGHT_SHELTER
    return ethos


def _weights(areas: Areas) -> dict[str, float]:
    """How often people are met in each area (the areas file's demo weights)."""
    return {area.code: area.demo_weight for area in areas.areas}


def _point(rng: random.Random, district: str, areas: Areas) -> Point:
    """A point within about 400 m of the district's centroid."""
    centre = areas.by_code[district]
    lat = centre.lat + rng.uniform(-0.0036, 0.0036)
    return Point(round(lat, 6), round(centre.lon + rng.uniform(-0.0051, 0.0051), 6))


def _note(
    rng: random.Random, templates: Sequence[str], given: str, district: Area, **more: str
) -> str:
    detail, detail_en = rng.choice(d.DETAILS_FR), rng.choice(d.DETAILS_EN)
    return rng.choice(templates).format(
        given=given,
        place=rng.choice(district.landmarks or (district.name,)),
        item=rng.choice(d.ITEMS_FR),
        item_en=rng.choice(d.ITEMS_EN),
        detail=detail,
        detail_lc=detail[0].lower() + detail[1:],
        detail_en=detail_en,
        detail_en_lc=detail_en[0].lower() + detail_en[1:],
        **more,
    )


def _needs(rng: random.Random, weights: Mapping[NeedCategory, float], count: int) -> list[NeedIn]:
    chosen: list[NeedCategory] = []
    while len(chosen) < min(count, len(weights)):
        chosen.append(_pick(rng, {c: w for c, w in weights.items() if c not in chosen}))
    return [NeedIn(c, _pick(rng, d.SEVERITY_WEIGHTS)) for c in chosen]


def _registration(
    rng: random.Random,
    spec: d.OrgSpec,
    spelling: tuple[str, str],
    given: str,  # as the person says it, for the notes
    sex: Sex,
    ethos: EthosCategory,
    district: str,
    english: bool,
    known_by: Sequence[str],
    areas: Areas,
) -> d.DemoRegistration:
    weights = {**spec.needs, NeedCategory.LEGAL: 0.3, NeedCategory.EMPLOYMENT: 0.3}
    abused = ethos in (EthosCategory.ETHOS_4_WOMENS_SHELTER, EthosCategory.ETHOS_10_VIOLENCE)
    abused = abused or (sex is Sex.FEMALE and rng.random() < 0.05)
    needs = _needs(rng, weights, _pick(rng, {1: 40, 2: 30, 3: 20, 4: 10}))
    if abused and all(n.category is not NeedCategory.DOMESTIC_ABUSE for n in needs):
        needs.insert(0, NeedIn(NeedCategory.DOMESTIC_ABUSE, NeedSeverity.HIGH))
    days = sorted(rng.sample(range(1, 366), _pick(rng, {0: 5, 1: 33, 2: 29, 3: 19, 4: 14})))
    encounters: list[d.DemoEncounter] = []
    for day in reversed(days):  # oldest first
        place = district if rng.random() < 0.8 else _pick(rng, _weights(areas))
        templates = d.ENCOUNTER_NOTES_EN if english else d.ENCOUNTER_NOTES_FR
        given_services = _pick(rng, {0: 15, 1: 55, 2: 30})
        encounters.append(
            d.DemoEncounter(
                days_ago=day,
                hour=rng.randint(6, 22),
                minute=rng.randrange(0, 60, 5),
                district=place,
                point=_point(rng, place, areas) if rng.random() < 0.8 else None,
                notes=_note(rng, templates, given, areas.by_code[place]),
                services=tuple(rng.sample(spec.services, min(len(spec.services), given_services))),
                needs=tuple(_needs(rng, weights, 1)) if rng.random() < 0.15 else (),
            )
        )
    situation, situation_en = d.SITUATIONS[ETHOS_GROUP[ethos]]
    case_templates = d.CASE_NOTES_EN if english else d.CASE_NOTES_FR
    case_note = _note(
        rng,
        case_templates,
        given,
        areas.by_code[district],
        situation=situation,
        situation_en=situation_en,
    )
    hud = sorted(hud_codes_for(ethos) - d.EXCLUDED_HUD_CODES)
    return d.DemoRegistration(
        org=spec.slug,
        given_name=spelling[0],
        family_name=spelling[1],
        opened_days_ago=(days[-1] if days else rng.randint(1, 365)) + rng.randint(0, 10),
        living_situation=ethos,
        hud_living_situation=rng.choice(hud) if hud else None,
        is_domestic_abuse_survivor=abused,
        district=district,
        point=_point(rng, district, areas) if rng.random() < 0.6 else None,
        case_note=case_note,
        needs=tuple(needs),
        encounters=tuple(encounters),
        consent=_consent_given(rng, spec, known_by) if rng.random() < spec.consent_rate else None,
        referral=_referral_made(rng, spec, given) if rng.random() < 0.1 else None,
    )


def _consent_given(rng: random.Random, spec: d.OrgSpec, known_by: Sequence[str]) -> d.DemoConsent:
    if spec.distrusts_pooling:
        days, revoked = rng.randint(30, 180), rng.random() < 0.1
        return d.DemoConsent((Purpose.FOOD_AID,), (), (OrgKind.CHARITY,), days, revoked)
    others = [o for o in d.ORGS if o.slug != spec.slug]
    purposes = tuple(sorted(rng.sample(d.SHAREABLE_PURPOSES, rng.randint(1, 3))))
    recipients: tuple[str, ...] = ()
    kinds: tuple[OrgKind, ...] = ()
    if rng.random() < 0.5:  # the partners who also know the person, by name
        recipients = tuple([o.slug for o in others if o.slug in known_by][:2])
    if not recipients:
        kinds = tuple(sorted({o.kind for o in rng.sample(others, rng.randint(1, 2))}))
    expiry = rng.randint(30, 365) if rng.random() < 0.4 else None
    return d.DemoConsent(purposes, recipients, kinds, expiry, rng.random() < 0.06)


def _referral_made(rng: random.Random, spec: d.OrgSpec, given: str) -> d.DemoReferral:
    to = d.ORGS_BY_SLUG[_pick(rng, {o.slug: o.weight for o in d.ORGS if o is not spec})]
    note = rng.choice(d.REFERRAL_NOTES).format(org=to.name, given=given)
    return d.DemoReferral(to.slug, to.referred_for[0], to.referred_for[1], note)


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
    persons: set[uuid.UUID] = set()
    holders: dict[uuid.UUID, set[str]] = defaultdict(set)
    for spec in d.ORGS:
        actor = workers[spec.slug]
        purpose = _PURPOSE[_intake_role(spec.kind)]
        mine = [(p, r) for p in population for r in p.registrations if r.org == spec.slug]
        for start in range(0, len(mine), BATCH):
            batch = mine[start : start + BATCH]
            records = [_record(person, reg, now, areas) for person, reg in batch]
            results = intake(session, actor, purpose, records)
            for (_, reg), record, result in zip(batch, records, results, strict=True):
                tally["encounters"] += len(record.encounters)
                tally["needs"] += len(record.needs) + sum(len(e.needs) for e in record.encounters)
                persons.add(result.person_id)
                holders[result.person_id].add(spec.slug)
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
                    cases.refer(
                        session, actor, purpose, result.case_id, to, ref.purpose, ref.need, ref.note
                    )
                    tally["referrals"] += 1
            tally["registrations"] += len(batch)
    return DemoSummary(
        organisations=len(made),
        users=len(logins),
        registrations=tally["registrations"],
        persons=len(persons),
        known_to_several=sum(len(orgs) > 1 for orgs in holders.values()),
        cases=tally["registrations"],  # one case per registration
        encounters=tally["encounters"],
        needs=tally["needs"],
        consents=tally["consents"],
        consents_revoked=tally["revoked"],
        referrals=tally["referrals"],
        logins=tuple(logins),
        password=password,
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
        person.birth_date,
        person.sex,
        person.aliases,
        person.birth_place,
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

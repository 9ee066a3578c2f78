"""The demo city's people: who they are and how each organisation registered them.

`generate_population` is pure (no database, no clock): the same arguments give the same people,
so tests can check that none of their clear values reaches the database. Each person is known to
one to four orgs, which record their identifiers with the errors of issue 16 (variants.py); a
few are registered twice by the same org.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import TypeVar

from faker import Faker

from databank.config import DEMO_AREAS_FILE
from databank.demo import cast as d
from databank.demo.cast import DemoPerson
from databank.demo.origins import TrueIdentity, draw_identity
from databank.demo.variants import ErrorType, Recorded, formatted, recorded
from databank.domain.areas import Area, Areas
from databank.domain.areas_file import load_areas
from databank.domain.enums import NeedSeverity, OrgKind, Purpose, Sex
from databank.domain.names import name_key
from databank.domain.vocab import ETHOS_GROUP, EthosCategory, NeedCategory, hud_codes_for
from databank.services.inputs import NeedIn, Point

__all__ = ["generate_population"]

T = TypeVar("T")


def _pick(rng: random.Random, weighted: Mapping[T, float]) -> T:
    """One key, drawn with probability proportional to its weight."""
    return rng.choices(list(weighted), list(weighted.values()))[0]


DUPLICATE_RATE = 0.04  # people an org registers a second time, not finding its first record
# How many identifier errors a registration carries: the first org's is the most careful.
FIRST_ERRORS: Mapping[int, float] = {0: 60, 1: 30, 2: 10}
LATER_ERRORS: Mapping[int, float] = {0: 35, 1: 40, 2: 20, 3: 5}


def generate_population(people: int, seed: int, areas: Areas | None = None) -> list[DemoPerson]:
    """`people` distinct people (no two share true identifiers), each registered by one to four
    orgs with the errors of issue 16; depends on the seed (and the areas they are met in: the
    deployment's, by default the demo's Lyon) only."""
    areas = areas or load_areas(DEMO_AREAS_FILE)
    rng = random.Random(seed)  # noqa: S311 - synthetic demo data, not security
    fakers = {locale: Faker(locale) for locale in ("fr_FR", "en_GB")}
    for fake in fakers.values():
        fake.seed_instance(seed)
    seen: set[tuple[str, str, date]] = set()
    return [_person(rng, fakers, seen, areas) for _ in range(people)]


def _key(given: str, family: str, birth: date) -> tuple[str, str, date]:
    """What registration pools on exactly (the linkage zone's exact token)."""
    return name_key(given), name_key(family), birth


def _person(
    rng: random.Random, fakers: Mapping[str, Faker], seen: set[tuple[str, str, date]], areas: Areas
) -> DemoPerson:
    sex = _pick(rng, {Sex.MALE: 66, Sex.FEMALE: 30, Sex.OTHER: 2, Sex.UNKNOWN: 2})
    named = sex if sex in (Sex.MALE, Sex.FEMALE) else rng.choice((Sex.MALE, Sex.FEMALE))
    truth = draw_identity(rng, fakers, sex, named)
    birth = truth.birth_date
    while _key(truth.given, truth.family, birth) in seen:  # namesakes are born on other days
        birth -= timedelta(days=1)
    truth = replace(truth, birth_date=birth)
    seen.add(_key(truth.given, truth.family, birth))
    phone = None
    if rng.random() < 0.5:
        mobile, digits = rng.choice("67"), " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4))
        phone = f"+33 {mobile} {digits}" if rng.random() < 0.2 else f"0{mobile} {digits}"
    aliases = tuple(rng.sample(d.ALIASES, rng.choice((1, 1, 2)))) if rng.random() < 0.1 else ()
    known_by: list[str] = []
    for _ in range(_pick(rng, {1: 60, 2: 28, 3: 10, 4: 2})):
        known_by.append(_pick(rng, {o.slug: o.weight for o in d.ORGS if o.slug not in known_by}))
    twice = rng.choice(known_by) if rng.random() < DUPLICATE_RATE else None
    ethos, district = _ethos(rng, sex), _pick(rng, _weights(areas))
    english = 0.5 if truth.origin == "en_GB" else 0.1
    registrations: list[d.DemoRegistration] = []
    for spec in (o for o in d.ORGS if o.slug in known_by):  # in the order the demo loads orgs
        for copy in range(2 if spec.slug == twice else 1):
            rec = _recorded(rng, truth, registrations[-1] if copy else None, not registrations)
            registrations.append(
                _registration(
                    rng,
                    spec,
                    rec,
                    copy == 1,
                    truth.given,
                    sex,
                    ethos if rng.random() < 0.8 else _ethos(rng, sex),
                    district if rng.random() < 0.75 else _pick(rng, _weights(areas)),
                    rng.random() < english,
                    known_by,
                    areas,
                )
            )
    return DemoPerson(
        truth.given,
        truth.family,
        birth,
        sex,
        phone,
        aliases,
        truth.birth_place,
        truth.origin,
        tuple(registrations),
    )


def _recorded(
    rng: random.Random,
    truth: TrueIdentity,
    again: d.DemoRegistration | None,
    first: bool,
) -> Recorded:
    """One org's copy of the identifiers. A second registration by the same org (`again` is its
    first) has at least one error that changes what registration pools on: an org that typed
    the same identifiers would have found its own record."""
    if again is None:
        rec = recorded(rng, truth, _pick(rng, FIRST_ERRORS if first else LATER_ERRORS))
        if not first:  # another org lays the names out its own way
            rec = replace(rec, given=formatted(rng, rec.given), family=formatted(rng, rec.family))
        return rec
    before = _key(again.given_name, again.family_name, again.birth_date)
    for _ in range(20):
        rec = recorded(rng, truth, _pick(rng, {1: 70, 2: 30}))
        if _key(rec.given, rec.family, rec.birth_date) != before:
            return rec
    return replace(rec, family=rec.family + "e", errors=(*rec.errors, ErrorType.TYPO))


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
    rec: Recorded,
    is_duplicate: bool,
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
        given_name=rec.given,
        family_name=rec.family,
        birth_date=rec.birth_date,
        birth_place=rec.birth_place,
        errors=tuple(rec.errors),
        is_duplicate=is_duplicate,
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

"""The demo city's cast and vocabulary (orgs, staff, word lists, note templates) and its shapes.

Every organisation, place detail and person here is fictional; the places its notes name are
public landmarks of Lyon, kept with Lyon's districts in the demo's areas file
(databank/demo/areas/lyon.yaml), so that the notes read like a real outreach register.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from databank.demo.linkage_figures import LinkageFigures
from databank.domain.enums import CONSENTABLE_PURPOSES, NeedSeverity, OrgKind, Purpose, Role, Sex
from databank.domain.vocab import EthosCategory, LivingSituationGroup, NeedCategory
from databank.services.access.roles import requires_two_factor
from databank.services.inputs import NeedIn, Point


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split("|"))


DEMO_PASSWORD = "demo-databank-2026"  # noqa: S105 - the demo's published password
# Birth dates are computed from this fixed day, not from today, so a seed always gives the same
# people whatever the day the demo is loaded.
REFERENCE_DATE = date(2026, 11, 1)
SERVICES = (
    *("meal", "food_parcel", "sleeping_bag", "hygiene_kit", "shower", "clothing"),
    *("orientation", "medical_check", "phone_charge"),
)

_N = NeedCategory


@dataclass(frozen=True)
class OrgSpec:
    slug: str
    name: str
    kind: OrgKind
    weight: float  # how likely a person of the city is known here
    consent_rate: float  # the food charity distrusts pooling: its people consent less often
    needs: Mapping[NeedCategory, float]
    services: tuple[str, ...]
    referred_for: tuple[Purpose, NeedCategory]  # why partners refer people here
    # Like the Restos du Cœur: worried that pooled data is reused against the people it serves,
    # so its consents name charities only, for food aid only.
    distrusts_pooling: bool = False


ORGS: tuple[OrgSpec, ...] = (
    OrgSpec(
        "metropole",
        "Métropole — Veille sociale",
        OrgKind.COUNCIL,
        0.22,
        0.70,
        {_N.SHELTER: 6, _N.BENEFITS_AND_PAPERS: 2, _N.FAMILY: 1, _N.SOCIAL_CONTACT: 1},
        ("orientation", "phone_charge", "sleeping_bag"),
        (Purpose.HOUSING_ALLOCATION, _N.SHELTER),
    ),
    OrgSpec(
        "entraide",
        "Entraide Saint-Jean",
        OrgKind.CHARITY,
        0.30,
        0.70,
        {_N.SHELTER: 4, _N.HYGIENE: 2, _N.CLOTHING: 2, _N.SOCIAL_CONTACT: 1, _N.FOOD: 1},
        ("sleeping_bag", "hygiene_kit", "shower", "clothing", "meal", "orientation"),
        (Purpose.OUTREACH, _N.SHELTER),
    ),
    OrgSpec(
        "tables-du-coeur",
        "Les Tables du Cœur",
        OrgKind.CHARITY,
        0.25,
        0.35,
        {_N.FOOD: 8, _N.HYGIENE: 1, _N.SOCIAL_CONTACT: 1},
        ("meal", "food_parcel", "hygiene_kit"),
        (Purpose.FOOD_AID, _N.FOOD),
        distrusts_pooling=True,
    ),
    OrgSpec(
        "emsp",
        "Équipe mobile santé précarité",
        OrgKind.HEALTH,
        0.15,
        0.65,
        {_N.HEALTH: 5, _N.MENTAL_HEALTH: 3, _N.ADDICTION: 3, _N.HYGIENE: 1},
        ("medical_check", "orientation", "hygiene_kit"),
        (Purpose.CASE_MANAGEMENT, _N.HEALTH),
    ),
    OrgSpec(
        "habitat-rhone",
        "Habitat Rhône Social",
        OrgKind.HOUSING_PROVIDER,
        0.10,
        0.80,
        {_N.SHELTER: 5, _N.BENEFITS_AND_PAPERS: 3, _N.EMPLOYMENT: 1, _N.FAMILY: 1},
        ("orientation", "phone_charge"),
        (Purpose.HOUSING_ALLOCATION, _N.SHELTER),
    ),
)
ORGS_BY_SLUG: Mapping[str, OrgSpec] = MappingProxyType({o.slug: o for o in ORGS})

# (username prefix, role, display name) for every organisation, then the few special accounts.
STAFF: tuple[tuple[str, Role, str], ...] = (
    ("outreach", Role.OUTREACH_WORKER, "Travailleur social de maraude"),
    ("housing", Role.HOUSING_OFFICER, "Chargé de logement"),
    ("auditor", Role.AUDITOR, "Auditeur"),
    ("admin", Role.ORG_ADMIN, "Administrateur"),
)
SPECIAL_STAFF: tuple[tuple[str, str, Role, str], ...] = (
    ("emsp", "breakglass", Role.BREAK_GLASS_RESPONDER, "Médecin d'astreinte (bris de glace)"),
    ("metropole", "platform-auditor", Role.PLATFORM_AUDITOR, "Auditeur de la plateforme"),
    # Reviews the linkage's grey-zone pairs (issue 16): the demo's batch run leaves some.
    ("metropole", "linkage-reviewer", Role.LINKAGE_REVIEWER, "Relecteur du rapprochement"),
)

# ETHOS living situations, weighted towards roofless and houseless as in an outreach register.
ETHOS_WEIGHTS: Mapping[EthosCategory, float] = MappingProxyType(
    {
        EthosCategory.ETHOS_1_PUBLIC_SPACE: 34,
        EthosCategory.ETHOS_2_NIGHT_SHELTER: 20,
        EthosCategory.ETHOS_3_HOMELESS_HOSTEL: 11,
        EthosCategory.ETHOS_4_WOMENS_SHELTER: 3,
        EthosCategory.ETHOS_5_MIGRANT_ACCOMMODATION: 5,
        EthosCategory.ETHOS_6_DUE_RELEASE_INSTITUTION: 3,
        EthosCategory.ETHOS_7_SUPPORTED_ACCOMMODATION: 3,
        EthosCategory.ETHOS_8_INSECURE_ACCOMMODATION: 9,
        EthosCategory.ETHOS_9_EVICTION: 3,
        EthosCategory.ETHOS_10_VIOLENCE: 2,
        EthosCategory.ETHOS_11_TEMPORARY_STRUCTURES: 5,
        EthosCategory.ETHOS_12_UNFIT_HOUSING: 1,
        EthosCategory.UNKNOWN: 1,
    }
)
SEVERITY_WEIGHTS: Mapping[NeedSeverity, float] = MappingProxyType(
    {NeedSeverity.LOW: 20, NeedSeverity.MEDIUM: 45, NeedSeverity.HIGH: 27, NeedSeverity.URGENT: 8}
)
# What a person may agree to share for (never a forbidden purpose: no consent makes those lawful).
SHAREABLE_PURPOSES = CONSENTABLE_PURPOSES
# HUD codes never used for a current situation: a death and a missing exit interview.
EXCLUDED_HUD_CODES = frozenset({24, 30})

ALIASES = _words("Le Breton|Mimi|Tonton|Doc|P'tit Louis|Le Grand|Rasta|Nanou")

# Outreach notes. {given} is the person's given name, {place} a landmark of the district.
ENCOUNTER_NOTES_FR = (
    "Vu {given} près de {place}, demande {item}.",
    "Maraude du soir : {given} dort vers {place}. {detail}.",
    "Rencontre avec {given} à {place}, {detail_lc}.",
    "Passage à {place} : {given} accepte {item}. {detail}.",
    "Appel au 115 pour {given}, rencontre à {place} : pas de place ce soir.",
    "{given} passe à l'accueil de jour après une nuit à {place}. {detail}.",
)
ENCOUNTER_NOTES_EN = (
    "Met {given} near {place}; asked for {item_en}.",
    "Evening round: {given} bedded down at {place}. {detail_en}.",
    "{given} at {place} tonight, {detail_en_lc}.",
)
ITEMS_FR = _words(
    "un duvet|une couverture|un kit d'hygiène|des chaussettes|un ticket de métro|une douche"
    "|à recharger son téléphone|des vêtements chauds|un colis alimentaire|un rendez-vous médical"
)
ITEMS_EN = _words("a sleeping bag|a blanket|a hygiene kit|socks|a phone charge|a meal")
DETAILS_FR = (
    "Son chien Ramsès l'accompagne toujours",
    "A perdu sa carte d'identité",
    "Tousse beaucoup depuis une semaine",
    "Attend une réponse du SIAO",
    "Dit avoir été volé la nuit dernière",
    "Cherche du travail dans le bâtiment",
    "Parle de sa fille qui vit à Marseille",
    "Douleur au genou, orientation vers la PASS",
    "Refuse l'hébergement proposé à cause de son chien",
    "Grande fatigue, peu de mots",
    "A rendez-vous à la CAF jeudi",
    "Ne souhaite pas d'orientation pour l'instant",
)
DETAILS_EN = (
    "Says the night shelter was full again",
    "Lost his phone, will call from the day centre",
    "Worried about a court date next month",
    "Feet in poor condition, needs new shoes",
    "In good spirits, asked about English classes",
)
CASE_NOTES_FR = (
    "Premier contact à {place}. {given} {situation}. {detail}.",
    "Signalement d'un passant vers {place}. {given} {situation}.",
    "{given} {situation}. Orientation par une association partenaire. {detail}.",
)
CASE_NOTES_EN = ("First contact at {place}. {given} {situation_en}. {detail_en}.",)
SITUATIONS: Mapping[LivingSituationGroup, tuple[str, str]] = MappingProxyType(
    {
        LivingSituationGroup.ROOFLESS: ("dort dehors depuis plusieurs mois", "sleeps rough"),
        LivingSituationGroup.HOUSELESS: ("vit en foyer d'hébergement", "stays in a hostel"),
        LivingSituationGroup.INSECURE: ("vit chez des amis, sans bail", "sofa-surfs at friends'"),
        LivingSituationGroup.INADEQUATE: ("vit dans un squat", "lives in a squat"),
        LivingSituationGroup.INSTITUTION: ("sort bientôt de l'hôpital", "leaves hospital soon"),
        LivingSituationGroup.HOUSED: ("a un logement", "has a home"),
        LivingSituationGroup.UNKNOWN: (
            "ne dit rien de sa situation",
            "did not say where they stay",
        ),
    }
)
REFERRAL_NOTES = (
    "Orientation vers {org} : {given} est d'accord.",
    "{given} souhaite un rendez-vous avec {org}.",
    "Referred to {org}; {given} agreed to be contacted.",
)


@dataclass(frozen=True)
class DemoEncounter:
    days_ago: int
    hour: int  # UTC hour of day
    minute: int
    district: str  # the code of one of the areas
    point: Point | None
    notes: str
    services: tuple[str, ...]
    needs: tuple[NeedIn, ...]


@dataclass(frozen=True)
class DemoConsent:
    purposes: tuple[Purpose, ...]
    recipient_orgs: tuple[str, ...]  # slugs
    recipient_kinds: tuple[OrgKind, ...]
    expires_in_days: int | None
    is_revoked: bool


@dataclass(frozen=True)
class DemoReferral:
    to_org: str  # slug
    purpose: Purpose
    need: NeedCategory
    note: str


@dataclass(frozen=True)
class DemoRegistration:
    """How one organisation knows a person: its spelling of the name and its case."""

    org: str  # slug
    given_name: str  # as this org wrote them (see `errors`)
    family_name: str
    birth_date: date
    birth_place: str | None
    errors: tuple[str, ...]  # the identifier errors this org made (databank.demo.variants)
    is_duplicate: bool  # the org had already registered the person once
    opened_days_ago: int
    living_situation: EthosCategory
    hud_living_situation: int | None
    is_domestic_abuse_survivor: bool
    district: str
    point: Point | None
    case_note: str
    needs: tuple[NeedIn, ...]
    encounters: tuple[DemoEncounter, ...]
    consent: DemoConsent | None
    referral: DemoReferral | None


@dataclass(frozen=True)
class DemoPerson:
    """A generated person in clear, as the demo knows them (never as the databank stores them).

    The identifiers here are the true ones; each registration holds the org's own copy of them,
    errors included."""

    given_name: str
    family_name: str
    birth_date: date
    sex: Sex
    phone: str | None
    aliases: tuple[str, ...]
    birth_place: str | None
    origin: str  # fr_FR, en_GB, north, west or east (databank.demo.origins)
    registrations: tuple[DemoRegistration, ...]

    @property
    def orgs(self) -> tuple[str, ...]:
        return tuple(r.org for r in self.registrations)

    @property
    def notes(self) -> tuple[str, ...]:
        """Every free text written about the person: case, encounter and referral notes."""
        texts: list[str] = []
        for r in self.registrations:
            texts.append(r.case_note)
            texts.extend(e.notes for e in r.encounters)
            if r.referral is not None:
                texts.append(r.referral.note)
        return tuple(texts)

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


@dataclass(frozen=True)
class DemoSummary:
    """What `load_demo` loaded, and how to sign in."""

    organisations: int
    users: int
    registrations: int  # one per (person, org that registered them), duplicates included
    persons: int  # distinct pooled people (as the databank pooled them)
    known_to_several: int  # pooled people known to two or more orgs
    cases: int
    encounters: int
    needs: int
    consents: int
    consents_revoked: int
    referrals: int
    logins: tuple[tuple[str, Role, str], ...]  # (username, role, org slug)
    password: str
    linkage: LinkageFigures  # the pool measured against the demo's truth
    linkage_method: str  # how the pool was built
    # The truth: each subject's demo person (index in the population) and org slug. Ids only.
    truth: Mapping[uuid.UUID, tuple[int, str]] = field(repr=False, default_factory=dict)

    def describe(self) -> str:
        """A text for the terminal: the counts, then the demo accounts and their password."""
        counts = (
            ("organisations", self.organisations),
            ("staff accounts", self.users),
            ("distinct people (pooled)", self.persons),
            ("registrations (person x org)", self.registrations),
            ("people known to 2+ orgs", self.known_to_several),
            ("cases", self.cases),
            ("encounters", self.encounters),
            ("needs", self.needs),
            ("consents (revoked)", f"{self.consents} ({self.consents_revoked})"),
            ("referrals", self.referrals),
        )
        width = max(len("username"), *(len(u) for u, _, _ in self.logins))
        lines = ["Demo city loaded (fictional people; identifiers are encrypted at rest).", ""]
        lines += [f"  {label:<30}{value:>10}" for label, value in counts]
        lines += ["", *self.linkage.describe(self.linkage_method)]
        lines += [
            "",
            "Start the server (databank serve), open http://127.0.0.1:5000 and sign in as:",
        ]
        lines += ["", f"  {'username':<{width}}  {'role':<22}  {'organisation':<16}  two-factor"]
        lines += [
            f"  {u:<{width}}  {r.value:<22}  {o:<16}  "
            + ("required" if requires_two_factor({r}) else "optional")
            for u, r, o in self.logins
        ]
        lines += ["", f"Password of every demo account: {self.password}  (demo only, never reuse)"]
        lines += [
            "",
            "Two-factor sign-in: accounts marked 'required' set it up at their first sign-in.",
            "The page shows a key (and an otpauth:// link): add it to an authenticator app",
            "(FreeOTP, Aegis, Google Authenticator, or `oathtool --totp -b KEY` in a terminal),",
            "type the 6-digit code, and keep the recovery codes shown once. An org admin, or",
            "`databank users reset-2fa USERNAME`, resets a lost second factor.",
        ]
        return "\n".join(lines)

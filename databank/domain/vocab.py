"""Closed vocabularies (needs, ETHOS living situations, HUD codes) in English and French."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


@dataclass(frozen=True)
class Label:
    """A display label in the two languages of the interface."""

    en: str
    fr: str

    def for_locale(self, locale: str) -> str:
        """The French label for any "fr*" locale (fr, fr_FR, fr-CA), the English one otherwise."""
        return self.fr if locale.lower().startswith("fr") else self.en


class NeedCategory(StrEnum):
    """A needs taxonomy close to those of French SIAO and London CHAIN outreach records."""

    SHELTER = "shelter"
    FOOD = "food"
    HEALTH = "health"
    MENTAL_HEALTH = "mental_health"
    ADDICTION = "addiction"
    BENEFITS_AND_PAPERS = "benefits_and_papers"  # benefits, ID and residence papers
    EMPLOYMENT = "employment"
    FAMILY = "family"  # including children
    LEGAL = "legal"
    HYGIENE = "hygiene"
    CLOTHING = "clothing"
    DOMESTIC_ABUSE = "domestic_abuse"
    SOCIAL_CONTACT = "social_contact"  # isolation
    EDUCATION_TRAINING = "education_training"


NEED_LABELS: Mapping[NeedCategory, Label] = MappingProxyType(
    {
        NeedCategory.SHELTER: Label("Shelter", "Hébergement"),
        NeedCategory.FOOD: Label("Food", "Alimentation"),
        NeedCategory.HEALTH: Label("Health", "Santé"),
        NeedCategory.MENTAL_HEALTH: Label("Mental health", "Santé mentale"),
        NeedCategory.ADDICTION: Label("Addiction", "Addictions"),
        NeedCategory.BENEFITS_AND_PAPERS: Label(
            "Benefits, ID and residence papers", "Droits et papiers"
        ),
        NeedCategory.EMPLOYMENT: Label("Employment", "Emploi"),
        NeedCategory.FAMILY: Label("Family and children", "Famille et enfants"),
        NeedCategory.LEGAL: Label("Legal", "Juridique"),
        NeedCategory.HYGIENE: Label("Hygiene", "Hygiène"),
        NeedCategory.CLOTHING: Label("Clothing", "Vêtements"),
        NeedCategory.DOMESTIC_ABUSE: Label(
            "Domestic abuse", "Violences conjugales et intrafamiliales"
        ),
        NeedCategory.SOCIAL_CONTACT: Label(
            "Isolation and social contact", "Isolement et lien social"
        ),
        NeedCategory.EDUCATION_TRAINING: Label("Education and training", "Éducation et formation"),
    }
)


class LivingSituationGroup(StrEnum):
    """The four ETHOS conceptual categories, plus housed, institution and unknown."""

    ROOFLESS = "roofless"
    HOUSELESS = "houseless"
    INSECURE = "insecure"
    INADEQUATE = "inadequate"
    HOUSED = "housed"
    INSTITUTION = "institution"
    UNKNOWN = "unknown"


class EthosCategory(StrEnum):
    """The 13 operational categories of FEANTSA's ETHOS typology, plus unknown and housed."""

    ETHOS_1_PUBLIC_SPACE = "ethos_1_public_space"
    ETHOS_2_NIGHT_SHELTER = "ethos_2_night_shelter"
    ETHOS_3_HOMELESS_HOSTEL = "ethos_3_homeless_hostel"
    ETHOS_4_WOMENS_SHELTER = "ethos_4_womens_shelter"
    ETHOS_5_MIGRANT_ACCOMMODATION = "ethos_5_migrant_accommodation"
    ETHOS_6_DUE_RELEASE_INSTITUTION = "ethos_6_due_release_institution"
    ETHOS_7_SUPPORTED_ACCOMMODATION = "ethos_7_supported_accommodation"
    ETHOS_8_INSECURE_ACCOMMODATION = "ethos_8_insecure_accommodation"
    ETHOS_9_EVICTION = "ethos_9_eviction"
    ETHOS_10_VIOLENCE = "ethos_10_violence"
    ETHOS_11_TEMPORARY_STRUCTURES = "ethos_11_temporary_structures"
    ETHOS_12_UNFIT_HOUSING = "ethos_12_unfit_housing"
    ETHOS_13_OVERCROWDING = "ethos_13_overcrowding"
    UNKNOWN = "unknown"
    HOUSED = "housed"  # not homeless: own tenancy or ownership, permanent stay with family...

    @property
    def number(self) -> int | None:
        """The ETHOS operational category number (1-13), None for UNKNOWN and HOUSED."""
        if not self.value.startswith("ethos_"):
            return None
        return int(self.value.split("_")[1])


_E = EthosCategory
_G = LivingSituationGroup

ETHOS_GROUP: Mapping[EthosCategory, LivingSituationGroup] = MappingProxyType(
    {
        _E.ETHOS_1_PUBLIC_SPACE: _G.ROOFLESS,
        _E.ETHOS_2_NIGHT_SHELTER: _G.ROOFLESS,
        _E.ETHOS_3_HOMELESS_HOSTEL: _G.HOUSELESS,
        _E.ETHOS_4_WOMENS_SHELTER: _G.HOUSELESS,
        _E.ETHOS_5_MIGRANT_ACCOMMODATION: _G.HOUSELESS,
        # FEANTSA files category 6 under "houseless". We give it its own group, as HUD's APR does
        # for institutional stays, because a HUD code only says where the person is (jail,
        # hospital...), not that no housing awaits them on release: counting every such stay as
        # houseless would inflate homelessness figures.
        _E.ETHOS_6_DUE_RELEASE_INSTITUTION: _G.INSTITUTION,
        _E.ETHOS_7_SUPPORTED_ACCOMMODATION: _G.HOUSELESS,
        _E.ETHOS_8_INSECURE_ACCOMMODATION: _G.INSECURE,
        _E.ETHOS_9_EVICTION: _G.INSECURE,
        _E.ETHOS_10_VIOLENCE: _G.INSECURE,
        _E.ETHOS_11_TEMPORARY_STRUCTURES: _G.INADEQUATE,
        _E.ETHOS_12_UNFIT_HOUSING: _G.INADEQUATE,
        _E.ETHOS_13_OVERCROWDING: _G.INADEQUATE,
        _E.UNKNOWN: _G.UNKNOWN,
        _E.HOUSED: _G.HOUSED,
    }
)

# Wording of FEANTSA's ETHOS operational categories (English original, French version).
ETHOS_LABELS: Mapping[EthosCategory, Label] = MappingProxyType(
    {
        _E.ETHOS_1_PUBLIC_SPACE: Label(
            "Living rough (public or external space)", "Personnes vivant dans la rue"
        ),
        _E.ETHOS_2_NIGHT_SHELTER: Label(
            "In emergency accommodation (night shelter)", "Personnes en hébergement d'urgence"
        ),
        _E.ETHOS_3_HOMELESS_HOSTEL: Label(
            "In accommodation for the homeless (hostel, temporary, transitional)",
            "Personnes en foyer d'hébergement pour personnes sans domicile",
        ),
        _E.ETHOS_4_WOMENS_SHELTER: Label(
            "In a women's shelter", "Personnes en foyer d'hébergement pour femmes"
        ),
        _E.ETHOS_5_MIGRANT_ACCOMMODATION: Label(
            "In accommodation for immigrants", "Personnes en hébergement pour migrants"
        ),
        _E.ETHOS_6_DUE_RELEASE_INSTITUTION: Label(
            "Due to be released from an institution (prison, hospital, care)",
            "Personnes sortant d'institutions (prison, hôpital, protection de l'enfance)",
        ),
        _E.ETHOS_7_SUPPORTED_ACCOMMODATION: Label(
            "Receiving longer-term support (supported accommodation)",
            "Personnes en logement accompagné à long terme",
        ),
        _E.ETHOS_8_INSECURE_ACCOMMODATION: Label(
            "In insecure accommodation (with family or friends, no tenancy)",
            "Personnes en habitat précaire (chez des tiers, sans bail)",
        ),
        _E.ETHOS_9_EVICTION: Label("Under threat of eviction", "Personnes menacées d'expulsion"),
        _E.ETHOS_10_VIOLENCE: Label("Under threat of violence", "Personnes menacées de violences"),
        _E.ETHOS_11_TEMPORARY_STRUCTURES: Label(
            "In temporary or non-conventional structures",
            "Personnes vivant dans des structures provisoires ou non conventionnelles",
        ),
        _E.ETHOS_12_UNFIT_HOUSING: Label("In unfit housing", "Personnes en logement indigne"),
        _E.ETHOS_13_OVERCROWDING: Label(
            "In extreme overcrowding", "Personnes en situation de surpeuplement sévère"
        ),
        _E.UNKNOWN: Label("Living situation not known", "Situation de logement non renseignée"),
        _E.HOUSED: Label("Housed (not homeless)", "Logé (hors exclusion liée au logement)"),
    }
)

GROUP_LABELS: Mapping[LivingSituationGroup, Label] = MappingProxyType(
    {
        _G.ROOFLESS: Label("Roofless", "Sans abri"),
        _G.HOUSELESS: Label("Houseless", "Sans logement"),
        _G.INSECURE: Label("Insecure housing", "Logement précaire"),
        _G.INADEQUATE: Label("Inadequate housing", "Logement inadéquat"),
        _G.HOUSED: Label("Housed", "Logé"),
        _G.INSTITUTION: Label("In an institution", "En institution"),
        _G.UNKNOWN: Label("Not known", "Non renseigné"),
    }
)

# HUD HMIS FY2024 living-situation codes (data element 3.12 Destination, 3.917 Prior Living
# Situation, 4.12 Current Living Situation), as listed in HUD Data Lab's ResidenceUses.csv, with
# the ETHOS category each maps to. FY2022-only codes (3, 19, 20, 28, 31, 33, 34; folded into 435
# in FY2024) are not listed. Choices a reader might question:
# - 101 emergency shelter -> ETHOS 2: HUD shelters are mostly night-by-night; an entry-exit hostel
#   would be ETHOS 3, but the code does not tell them apart.
# - 302 transitional housing and 327 HOPWA transitional housing -> ETHOS 3, FEANTSA's 3.3
#   "transitional supported accommodation" (short stay); ETHOS 7 is long-stay supported housing.
# - 332 host home (non-crisis) -> ETHOS 3: temporary accommodation arranged by a youth homelessness
#   project, which HUD itself counts as homeless (crisis host homes are part of 101).
# - Institutions (204, 205, 206, 207, 215, 225) and 329 halfway house -> ETHOS 6, whose group is
#   INSTITUTION (see ETHOS_GROUP): a homelessness service records these stays because the person
#   is about to leave with nowhere to go (prior living situation, in-reach contact).
# - 314 hotel or motel paid by the person -> ETHOS 8: no tenancy, and it ends when the money does.
# - 422, 423 with family or friends on a permanent tenure -> HOUSED; 312, 313, 335, 336 on a
#   temporary one -> ETHOS 8.
# - 17 other, 24 deceased, 30 no exit interview and the missing-data codes -> UNKNOWN: none says
#   where the person lives (a death is an outcome, not a living situation).
_HUD_ROWS: tuple[tuple[int, str, EthosCategory], ...] = (
    (8, "Client doesn’t know", _E.UNKNOWN),
    (9, "Client prefers not to answer", _E.UNKNOWN),
    (17, "Other", _E.UNKNOWN),
    (24, "Deceased", _E.UNKNOWN),
    (30, "No exit interview completed", _E.UNKNOWN),
    (37, "Worker unable to determine", _E.UNKNOWN),
    (99, "Data not collected", _E.UNKNOWN),
    (101, "Emergency shelter", _E.ETHOS_2_NIGHT_SHELTER),
    (116, "Place not meant for habitation", _E.ETHOS_1_PUBLIC_SPACE),
    (118, "Safe Haven", _E.ETHOS_3_HOMELESS_HOSTEL),
    (204, "Psychiatric hospital or other psychiatric facility", _E.ETHOS_6_DUE_RELEASE_INSTITUTION),
    (205, "Substance abuse treatment facility or detox center", _E.ETHOS_6_DUE_RELEASE_INSTITUTION),
    (
        206,
        "Hospital or other residential non-psychiatric medical facility",
        _E.ETHOS_6_DUE_RELEASE_INSTITUTION,
    ),
    (207, "Jail, prison or juvenile detention facility", _E.ETHOS_6_DUE_RELEASE_INSTITUTION),
    (215, "Foster care home or foster care group home", _E.ETHOS_6_DUE_RELEASE_INSTITUTION),
    (225, "Long-term care facility or nursing home", _E.ETHOS_6_DUE_RELEASE_INSTITUTION),
    (302, "Transitional housing for homeless persons", _E.ETHOS_3_HOMELESS_HOSTEL),
    (312, "Staying or living with family, temporary tenure", _E.ETHOS_8_INSECURE_ACCOMMODATION),
    (313, "Staying or living with friends, temporary tenure", _E.ETHOS_8_INSECURE_ACCOMMODATION),
    (
        314,
        "Hotel or motel paid for without emergency shelter voucher",
        _E.ETHOS_8_INSECURE_ACCOMMODATION,
    ),
    (327, "Moved from one HOPWA funded project to HOPWA TH", _E.ETHOS_3_HOMELESS_HOSTEL),
    (
        329,
        "Residential project or halfway house with no homeless criteria",
        _E.ETHOS_6_DUE_RELEASE_INSTITUTION,
    ),
    (332, "Host Home", _E.ETHOS_3_HOMELESS_HOSTEL),
    (
        335,
        "Staying or living in a family member’s room, apartment or house",
        _E.ETHOS_8_INSECURE_ACCOMMODATION,
    ),
    (
        336,
        "Staying or living in a friend’s room, apartment or house",
        _E.ETHOS_8_INSECURE_ACCOMMODATION,
    ),
    (410, "Rental by client, no ongoing housing subsidy", _E.HOUSED),
    (411, "Owned by client, no ongoing housing subsidy", _E.HOUSED),
    (421, "Owned by client, with ongoing housing subsidy", _E.HOUSED),
    (422, "Staying or living with family, permanent tenure", _E.HOUSED),
    (423, "Staying or living with friends, permanent tenure", _E.HOUSED),
    (426, "Moved from one HOPWA funded project to HOPWA PH", _E.HOUSED),
    (435, "Rental by client, with ongoing housing subsidy", _E.HOUSED),
)

HUD_LIVING_SITUATIONS: Mapping[int, str] = MappingProxyType(
    {code: description for code, description, _ in _HUD_ROWS}
)
HUD_TO_ETHOS: Mapping[int, EthosCategory] = MappingProxyType(
    {code: category for code, _, category in _HUD_ROWS}
)


def ethos_for_hud(code: int) -> EthosCategory:
    """The ETHOS category of a HUD FY2024 living-situation code; ValueError if there is none."""
    try:
        return HUD_TO_ETHOS[code]
    except KeyError:
        raise ValueError(f"{code!r} is not a HUD FY2024 living-situation code") from None


def hud_codes_for(category: EthosCategory) -> frozenset[int]:
    """Every HUD FY2024 living-situation code that maps to this ETHOS category (may be empty)."""
    return frozenset(code for code, mapped in HUD_TO_ETHOS.items() if mapped == category)


class CloseReason(StrEnum):
    """Why a case was closed. Stored in clear, so a closed list (free text could carry a name)."""

    HOUSED = "housed"
    SHELTERED = "sheltered"  # in lasting accommodation that is not a home of their own
    MOVED_AWAY = "moved_away"
    LOST_CONTACT = "lost_contact"
    DECLINED_SUPPORT = "declined_support"
    DECEASED = "deceased"
    DUPLICATE = "duplicate"
    OTHER = "other"


CLOSE_REASON_LABELS: Mapping[CloseReason, Label] = MappingProxyType(
    {
        CloseReason.HOUSED: Label("Housed", "Relogé·e"),
        CloseReason.SHELTERED: Label("Sheltered", "Hébergé·e"),
        CloseReason.MOVED_AWAY: Label("Moved away", "Parti·e ailleurs"),
        CloseReason.LOST_CONTACT: Label("Lost contact", "Perdu de vue"),
        CloseReason.DECLINED_SUPPORT: Label("Declined support", "A refusé l'accompagnement"),
        CloseReason.DECEASED: Label("Died", "Décédé·e"),
        CloseReason.DUPLICATE: Label("Duplicate record", "Doublon"),
        CloseReason.OTHER: Label("Other", "Autre"),
    }
)


class Destination(StrEnum):
    """Where a person went when their case closed as housed or sheltered: the kind of
    accommodation, a closed list mapped to HUD FY2024 destination codes (data element 3.12) and
    ETHOS categories (what the statistics count). Clear, like every coarse code."""

    # Housed: a home of their own, or a permanent stay.
    RENTAL_PRIVATE = "rental_private"
    RENTAL_SUBSIDISED = "rental_subsidised"  # social housing, or a rent with a subsidy
    OWNED = "owned"
    FAMILY_PERMANENT = "family_permanent"
    FRIENDS_PERMANENT = "friends_permanent"
    # Sheltered: lasting accommodation that is not a home of their own.
    SUPPORTED_HOUSING = "supported_housing"  # long-term supported accommodation
    HOSTEL = "hostel"  # homeless hostel, transitional housing
    EMERGENCY_SHELTER = "emergency_shelter"
    WOMENS_SHELTER = "womens_shelter"
    FAMILY_TEMPORARY = "family_temporary"
    FRIENDS_TEMPORARY = "friends_temporary"
    HOTEL = "hotel"
    HOSPITAL_OR_TREATMENT = "hospital_or_treatment"
    CARE_HOME = "care_home"
    PRISON = "prison"


@dataclass(frozen=True)
class DestinationInfo:
    """A destination's closing reason (housed or sheltered), HUD code, ETHOS category, labels."""

    reason: CloseReason
    hud: int | None
    ethos: EthosCategory
    label: Label


_D = Destination
_HOUSED = CloseReason.HOUSED
_SHELTERED = CloseReason.SHELTERED
# HUD has no code of its own for a women's shelter (it is an emergency shelter, 101) nor for
# long-term supported accommodation that is not HOPWA (435 is a subsidised rental): the HUD code
# is the nearest one, the ETHOS category the exact one.
DESTINATIONS: Mapping[Destination, DestinationInfo] = MappingProxyType(
    {
        _D.RENTAL_PRIVATE: DestinationInfo(
            _HOUSED, 410, _E.HOUSED, Label("Private rental", "Location privée")
        ),
        _D.RENTAL_SUBSIDISED: DestinationInfo(
            _HOUSED,
            435,
            _E.HOUSED,
            Label("Social or subsidised rental", "Logement social ou location aidée"),
        ),
        _D.OWNED: DestinationInfo(_HOUSED, 411, _E.HOUSED, Label("Owned home", "Propriétaire")),
        _D.FAMILY_PERMANENT: DestinationInfo(
            _HOUSED,
            422,
            _E.HOUSED,
            Label("With family, permanently", "Chez de la famille, durablement"),
        ),
        _D.FRIENDS_PERMANENT: DestinationInfo(
            _HOUSED,
            423,
            _E.HOUSED,
            Label("With friends, permanently", "Chez des amis, durablement"),
        ),
        _D.SUPPORTED_HOUSING: DestinationInfo(
            _SHELTERED,
            None,
            _E.ETHOS_7_SUPPORTED_ACCOMMODATION,
            Label("Supported accommodation (long term)", "Logement accompagné (long terme)"),
        ),
        _D.HOSTEL: DestinationInfo(
            _SHELTERED,
            302,
            _E.ETHOS_3_HOMELESS_HOSTEL,
            Label("Hostel or transitional housing", "Foyer ou hébergement d'insertion"),
        ),
        _D.EMERGENCY_SHELTER: DestinationInfo(
            _SHELTERED,
            101,
            _E.ETHOS_2_NIGHT_SHELTER,
            Label("Emergency shelter", "Hébergement d'urgence"),
        ),
        _D.WOMENS_SHELTER: DestinationInfo(
            _SHELTERED,
            101,
            _E.ETHOS_4_WOMENS_SHELTER,
            Label("Women's shelter", "Foyer pour femmes"),
        ),
        _D.FAMILY_TEMPORARY: DestinationInfo(
            _SHELTERED,
            312,
            _E.ETHOS_8_INSECURE_ACCOMMODATION,
            Label("With family, for a while", "Chez de la famille, temporairement"),
        ),
        _D.FRIENDS_TEMPORARY: DestinationInfo(
            _SHELTERED,
            313,
            _E.ETHOS_8_INSECURE_ACCOMMODATION,
            Label("With friends, for a while", "Chez des amis, temporairement"),
        ),
        _D.HOTEL: DestinationInfo(
            _SHELTERED,
            314,
            _E.ETHOS_8_INSECURE_ACCOMMODATION,
            Label("Hotel paid by the person", "Hôtel payé par la personne"),
        ),
        _D.HOSPITAL_OR_TREATMENT: DestinationInfo(
            _SHELTERED,
            206,
            _E.ETHOS_6_DUE_RELEASE_INSTITUTION,
            Label("Hospital or treatment centre", "Hôpital ou centre de soins"),
        ),
        _D.CARE_HOME: DestinationInfo(
            _SHELTERED,
            225,
            _E.ETHOS_6_DUE_RELEASE_INSTITUTION,
            Label("Care home", "Établissement de soins de longue durée"),
        ),
        _D.PRISON: DestinationInfo(
            _SHELTERED,
            207,
            _E.ETHOS_6_DUE_RELEASE_INSTITUTION,
            Label("Prison", "Prison"),
        ),
    }
)
# The closing reasons that say where the person went: a destination is required with them.
REASONS_WITH_DESTINATION = frozenset({CloseReason.HOUSED, CloseReason.SHELTERED})


class ServiceGiven(StrEnum):
    """What an outreach team gives or does during an encounter (the demo uses the same words)."""

    MEAL = "meal"
    FOOD_PARCEL = "food_parcel"
    BLANKET = "blanket"
    SLEEPING_BAG = "sleeping_bag"
    HYGIENE_KIT = "hygiene_kit"
    SHOWER = "shower"
    CLOTHING = "clothing"
    PHONE_CHARGE = "phone_charge"
    ORIENTATION = "orientation"  # information on where to go for what
    MEDICAL_CHECK = "medical_check"
    MEDICAL_REFERRAL = "medical_referral"


SERVICE_LABELS: Mapping[ServiceGiven, Label] = MappingProxyType(
    {
        ServiceGiven.MEAL: Label("Meal or hot drink", "Repas ou boisson chaude"),
        ServiceGiven.FOOD_PARCEL: Label("Food parcel", "Colis alimentaire"),
        ServiceGiven.BLANKET: Label("Blanket", "Couverture"),
        ServiceGiven.SLEEPING_BAG: Label("Sleeping bag", "Sac de couchage"),
        ServiceGiven.HYGIENE_KIT: Label("Hygiene kit", "Kit d'hygiène"),
        ServiceGiven.SHOWER: Label("Shower", "Douche"),
        ServiceGiven.CLOTHING: Label("Clothing", "Vêtements"),
        ServiceGiven.PHONE_CHARGE: Label("Phone charging", "Recharge de téléphone"),
        ServiceGiven.ORIENTATION: Label("Information and directions", "Information et orientation"),
        ServiceGiven.MEDICAL_CHECK: Label("Health check", "Bilan de santé"),
        ServiceGiven.MEDICAL_REFERRAL: Label("Sent to a doctor or clinic", "Orientation médicale"),
    }
)


# Why an organisation merges its own two records of one person (services/records/own_merge.py).
OWN_MERGE_REASONS = ("duplicate_registration", "data_entry_error")

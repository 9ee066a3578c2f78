"""Who the demo city's people are: names and birth places as Lyon's services meet them.

People come from France and the UK (Faker's fr_FR and en_GB), North Africa, West Africa and
Eastern Europe. Each origin's names are drawn with Zipf weights, so a few (Mamadou Diallo,
Mohamed Benali) are very common, and people who arrived from elsewhere are mostly young adults:
namesakes born in the same years are the hard case for linkage (issue 16). Every name is written
as a French service would write it, accents included (Aïcha, Traoré, Ionuț).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from faker import Faker

from databank.demo.cast import REFERENCE_DATE
from databank.domain.enums import Sex

__all__ = ["ORIGIN_WEIGHTS", "TrueIdentity", "draw_identity"]


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split("|"))


@dataclass(frozen=True)
class Origin:
    male: tuple[str, ...]  # most common first
    female: tuple[str, ...]
    family: tuple[str, ...]
    places: tuple[str, ...]  # birth places as a service writes them


NORTH_AFRICAN = Origin(
    _words(
        "Mohamed|Ahmed|Karim|Youssef|Rachid|Mustapha|Abdelkader|Omar|Saïd|Samir|Bilal|Hamza"
        "|Nabil|Yacine|Khaled|Ali|Ismaïl|Walid|Mehdi|Sofiane"
    ),
    _words("Fatima|Khadija|Aïcha|Meriem|Nadia|Samira|Leïla|Zineb|Amina|Yasmine|Salma|Nour"),
    _words(
        "Benali|Haddad|Mansour|Belkacem|Saïdi|Bouaziz|Ben Youssef|Ait Ahmed|El Amrani|Alaoui"
        "|Boukhari|Khalil|Mahmoud|Chaouch|Boumediene|Hamdi|Zidane|Bensaïd|Benahmed"
    ),
    _words("Alger|Oran|Constantine|Sétif|Annaba|Casablanca|Fès|Oujda|Tunis|Sfax"),
)
WEST_AFRICAN = Origin(
    _words(
        "Mamadou|Moussa|Ibrahima|Abdoulaye|Ousmane|Amadou|Souleymane|Boubacar|Seydou|Cheikh"
        "|Modou|Alassane|Lamine|Sékou|Demba|Kofi"
    ),
    _words("Fatoumata|Aminata|Mariama|Aïssatou|Kadiatou|Awa|Binta|Coumba|Djénéba|Oumou|Ndeye|Hawa"),
    _words(
        "Diallo|Traoré|Diop|N'Diaye|Camara|Sow|Barry|Coulibaly|Keïta|Touré|Bah|Sylla|Konaté"
        "|Cissé|Fofana|Koné|Doumbia|Mbaye|Fall|Gueye|Sarr|Ouattara|Sissoko|Dembélé|Mensah"
    ),
    _words("Dakar|Bamako|Conakry|Abidjan|Kayes|Labé|Thiès|Ségou|Kankan|Accra"),
)
EASTERN_EUROPEAN = Origin(
    _words(
        "Ionuț|Oleksandr|Vasile|Dragoș|Ivan|Sergei|Dmitri|Bogdan|Andrei|Mykola|Piotr|Tomasz"
        "|Marek|Igor|Vladimir"
    ),
    _words(
        "Ioana|Oksana|Elena|Olga|Irina|Tatiana|Natalia|Svetlana|Katarzyna|Agnieszka|Anastasia"
        "|Ludmila"
    ),
    _words(
        "Popescu|Stoica|Kovalenko|Ionescu|Ivanov|Shevchenko|Bondarenko|Melnyk|Nowak|Kowalski"
        "|Petrov|Wozniak|Horvath|Dimitrov|Krasniqi|Hoxha|Berisha"
    ),
    _words("Bucarest|Iași|Chișinău|Kyiv|Kharkiv|Lviv|Varsovie|Tirana|Sofia|Cluj-Napoca"),
)
FRENCH_PLACES = _words(
    "Lyon|Villeurbanne|Vénissieux|Saint-Étienne|Grenoble|Clermont-Ferrand|Marseille|Paris"
    "|Saint-Priest|Bourg-en-Bresse|Mâcon|Valence"
)
UK_PLACES = _words("London|Manchester|Birmingham|Glasgow|Liverpool|Leeds|Bristol|Cardiff")
# Names the locale generators rarely give: compound given names and family names with particles.
COMPOUND_GIVEN = {
    Sex.MALE: _words("Jean-Pierre|Jean-Luc|Pierre-Yves|Jean-Michel|Marc-Antoine|Jean-Baptiste"),
    Sex.FEMALE: _words("Marie-Claire|Anne-Sophie|Marie-Hélène|Marie-Noëlle|Anne-Laure"),
}
PARTICLE_FAMILY = _words(
    "de la Fontaine|Le Goff|d'Almeida|de Saint-Exupéry|Du Pont|de la Croix|Le Bihan"
    "|van der Berg|Dupré|Lefèvre-Marchand|Le Roy|O'Connor"
)
ELSEWHERE = {"north": NORTH_AFRICAN, "west": WEST_AFRICAN, "east": EASTERN_EUROPEAN}
# Where the people met by Lyon's outreach teams come from (the demo's guess, not a statistic).
ORIGIN_WEIGHTS: Mapping[str, float] = {
    "fr_FR": 45,
    "north": 22,
    "west": 15,
    "east": 10,
    "en_GB": 8,
}


@dataclass(frozen=True)
class TrueIdentity:
    """A person's identifiers as they would give them: what every registration is a copy of."""

    given: str
    family: str
    birth_date: date
    sex: Sex
    birth_place: str | None
    origin: str  # a key of ORIGIN_WEIGHTS


def _zipf(rng: random.Random, items: Sequence[str]) -> str:
    """One of the items, the first ones much more often (as names are in real registers)."""
    return rng.choices(items, [1 / (rank + 1) ** 0.8 for rank in range(len(items))])[0]


def _age_in_days(rng: random.Random, origin: str) -> int:
    roll = rng.random()
    if roll < 0.05:  # minors of 16 or 17
        return rng.randint(16 * 365 + 4, 17 * 365 + 180)
    if roll < 0.11 and origin in ("fr_FR", "en_GB"):
        return int(rng.uniform(66, 82) * 365.25)
    if origin in ELSEWHERE:  # young adults mostly: the same names come with the same years
        return int(rng.triangular(18.1, 55, 27) * 365.25)
    return int(rng.triangular(18.1, 65.9, 34) * 365.25)


def draw_identity(
    rng: random.Random, fakers: Mapping[str, Faker], sex: Sex, named: Sex
) -> TrueIdentity:
    """One person's true identity; `named` is the sex their given name goes with."""
    origin = rng.choices(list(ORIGIN_WEIGHTS), list(ORIGIN_WEIGHTS.values()))[0]
    if origin in ELSEWHERE:
        pool = ELSEWHERE[origin]
        given = _zipf(rng, pool.male if named is Sex.MALE else pool.female)
        family = _zipf(rng, pool.family)
        places = pool.places
    else:
        fake = fakers[origin]
        given = fake.first_name_male() if named is Sex.MALE else fake.first_name_female()
        family = fake.last_name()
        places = FRENCH_PLACES if origin == "fr_FR" else UK_PLACES
        if origin == "fr_FR":
            if rng.random() < 0.1:
                given = rng.choice(COMPOUND_GIVEN[named])
            roll = rng.random()
            if roll < 0.08:
                family = rng.choice(PARTICLE_FAMILY)
            elif roll < 0.12:  # a double-barrelled family name
                family = f"{family}-{fake.last_name()}"
    birth = REFERENCE_DATE - timedelta(days=_age_in_days(rng, origin))
    place = rng.choice(places) if rng.random() < 0.6 else None
    return TrueIdentity(given, family, birth, sex, place, origin)

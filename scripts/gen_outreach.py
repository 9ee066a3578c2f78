"""Seeded generator of outreach-like record sets with the error types of issue 16.

    python scripts/gen_outreach.py --seed 1 --records 10000 --orgs 5 --out outreach.csv

Writes ``record_id, org, given_name, family_name, sex, date_of_birth, birth_place, postcode,
person_id``. People are drawn as French, UK and African-origin services record them (Faker's
fr_FR and en_GB, plus West African, North African and Eastern European tables in which a few
names, such as Mamadou Diallo and Mohamed Benali, are very frequent, and with birth years
concentrated so that the same name and year recur). Each person has 1-5 records across 4+
orgs, with typos, dropped accents, swapped names, transliteration variants, nicknames,
compound names cut short, unknown birth dates recorded as 1 January, day and month swapped,
within-org duplicates and missing fields. person_id is the truth, for scoring only.
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import date, timedelta

from faker import Faker

# (given names male, given names female, family names), weights favour the first entries.
AFRICAN_WEST = (
    ["Mamadou", "Moussa", "Ibrahima", "Abdoulaye", "Ousmane", "Amadou", "Souleymane",
     "Boubacar", "Seydou", "Cheikh", "Modou", "Alassane", "Lamine", "Sekou", "Demba", "Kofi"],
    ["Fatoumata", "Aminata", "Mariama", "Aissatou", "Kadiatou", "Awa", "Binta", "Coumba",
     "Djeneba", "Oumou", "Ndeye", "Fatou", "Hawa", "Rokia"],
    ["Diallo", "Traore", "Diop", "Ndiaye", "Camara", "Sow", "Barry", "Coulibaly", "Keita",
     "Toure", "Bah", "Sylla", "Konate", "Cisse", "Fofana", "Kone", "Doumbia", "Mbaye", "Fall",
     "Gueye", "Sarr", "Ouattara", "Sissoko", "Dembele"],
)  # fmt: skip
AFRICAN_NORTH = (
    ["Mohamed", "Ahmed", "Youssef", "Karim", "Mustapha", "Abdelkader", "Rachid", "Omar",
     "Hamza", "Bilal", "Samir", "Khaled", "Said", "Yacine", "Ali", "Ismail", "Nabil", "Walid"],
    ["Fatima", "Khadija", "Aicha", "Meriem", "Nour", "Yasmine", "Zineb", "Amina", "Samira",
     "Leila", "Salma", "Sara"],
    ["Benali", "Benahmed", "Haddad", "Mansour", "Saidi", "Belkacem", "Bouaziz", "Khalil",
     "Mahmoud", "Hamdi", "Zidane", "El Amrani", "Alaoui", "Bensaid", "Chaouch", "Boumediene"],
)  # fmt: skip
EASTERN = (
    ["Ivan", "Sergei", "Dmitri", "Oleksandr", "Vladimir", "Andrei", "Mykola", "Piotr",
     "Tomasz", "Vasile", "Bogdan", "Igor", "Marek", "Ionut"],
    ["Olga", "Irina", "Tatiana", "Natalia", "Svetlana", "Anastasia", "Katarzyna", "Agnieszka",
     "Elena", "Ludmila", "Iryna"],
    ["Ivanov", "Petrov", "Smirnov", "Kowalski", "Nowak", "Shevchenko", "Kovalenko", "Popescu",
     "Ionescu", "Horvath", "Dimitrov", "Melnyk", "Bondarenko", "Wozniak", "Krasniqi"],
)  # fmt: skip
PLACES = {
    "west": ["Dakar", "Bamako", "Conakry", "Abidjan", "Senegal", "Mali", "Guinee", "Nouakchott"],
    "north": ["Alger", "Oran", "Casablanca", "Tunis", "Maroc", "Algerie", "Constantine"],
    "east": ["Kyiv", "Bucuresti", "Warszawa", "Moldova", "Kharkiv", "Tirana", "Sofia"],
    "fr_FR": ["Lyon", "Paris", "Marseille", "Saint-Etienne", "Grenoble", "Villeurbanne"],
    "en_GB": ["London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol"],
}
# Variants a service might write instead (the normaliser's tables cover these).
VARIANTS = {
    "Mohamed": ["Mohammed", "Muhammad", "Mohamad", "Mouhamed"], "Ahmed": ["Ahmad", "Ahmet"],
    "Youssef": ["Yusuf", "Youssouf", "Yousef"], "Mustapha": ["Mustafa", "Moustapha"],
    "Abdoulaye": ["Abdullah", "Abdallah", "Ablaye"], "Ibrahima": ["Ibrahim", "Brahim"],
    "Mamadou": ["Mamoudou", "Mamad"], "Ousmane": ["Usman", "Osman"], "Aissatou": ["Aicha"],
    "Fatoumata": ["Fatou", "Fatimata"], "Souleymane": ["Suleiman", "Soulaymane"],
    "Khadija": ["Khadidja"], "Meriem": ["Mariam", "Myriam"], "Yacine": ["Yassine"],
    "Oleksandr": ["Alexandre", "Sasha", "Aleksandr"], "Dmitri": ["Dmitry", "Dima"],
    "Sergei": ["Sergey", "Serhiy"], "Tatiana": ["Tanya", "Tetiana"], "Piotr": ["Pierre"],
    "Natalia": ["Natasha", "Nathalie"], "Robert": ["Bob", "Rob"], "William": ["Bill", "Will"],
    "Joseph": ["Jo", "Joe"], "Jean-Baptiste": ["JB"], "Benali": ["Ben Ali", "Ben-Ali"],
    "Diallo": ["Jalloh", "Djallo"], "Traore": ["Traoré"], "Toure": ["Touré"],
    "Ndiaye": ["N'Diaye"], "Camara": ["Kamara"], "Coulibaly": ["Koulibaly"],
    "Ivanov": ["Ivanoff"], "Kowalski": ["Kovalski"], "Cisse": ["Cissé"],
}  # fmt: skip
ACCENTED = {"e": "é", "a": "à", "i": "ï", "o": "ô", "c": "ç"}


class Generator:
    def __init__(self, seed: int, orgs: int) -> None:
        self.rng = random.Random(seed)
        self.faker = {loc: Faker(loc) for loc in ("fr_FR", "en_GB")}
        for i, fk in enumerate(self.faker.values()):
            fk.seed_instance(seed * 10 + i)
        self.orgs = [f"org{i + 1}" for i in range(max(orgs, 4))]
        self.areas = [f"6900{i}" for i in range(1, 10)] + [f"E{i}" for i in range(1, 18)]

    def _zipf(self, items: list[str]) -> str:
        weights = [1 / (rank + 1) ** 1.1 for rank in range(len(items))]
        return self.rng.choices(items, weights)[0]

    def person(self) -> dict[str, str | date | None]:
        rng = self.rng
        origin = rng.choices(["fr_FR", "en_GB", "west", "north", "east"], [30, 20, 22, 18, 10])[0]
        sex = rng.choice("fm") if rng.random() > 0.01 else "x"
        if origin in ("fr_FR", "en_GB"):
            fk = self.faker[origin]
            given = fk.first_name_female() if sex == "f" else fk.first_name_male()
            family = fk.last_name()
            if origin == "fr_FR" and rng.random() < 0.15:
                given = rng.choice(
                    ["Marie-Claire", "Anne-Sophie", "Marie-Christine"]
                    if sex == "f"
                    else ["Jean-Baptiste", "Jean-Pierre", "Jean-Luc", "Pierre-Yves"]
                )
            if rng.random() < 0.05:
                family = f"{family}-{fk.last_name()}"
        else:
            males, females, families = {"west": AFRICAN_WEST, "north": AFRICAN_NORTH,
                                        "east": EASTERN}[origin]  # fmt: skip
            given = self._zipf(females if sex == "f" else males)
            family = self._zipf(families)
        # Ages 18-70, concentrated in 25-45: the same name and year recur for common names.
        age = min(70, max(18, int(rng.gauss(37, 10))))
        born = date(2025 - age, 1, 1) + timedelta(days=rng.randrange(365))
        return {"given": given, "family": family, "sex": sex, "born": born,
                "place": rng.choice(PLACES[origin]), "area": rng.choice(self.areas)}  # fmt: skip

    def _typo(self, text: str) -> str:
        if len(text) < 3:
            return text
        i = self.rng.randrange(1, len(text) - 1)
        kind = self.rng.randrange(4)
        letter = self.rng.choice("abcdefghijklmnopqrstuvwxyz")
        if kind == 0:
            return text[:i] + text[i + 1 :]
        if kind == 1:
            return text[:i] + letter + text[i:]
        if kind == 2:
            return text[:i] + letter + text[i + 1 :]
        return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]

    def record(self, p: dict, first: bool) -> dict[str, str]:
        """One org's record of person p; the first record is cleaner than the others."""
        rng = self.rng
        given, family, born = str(p["given"]), str(p["family"]), p["born"]
        if not isinstance(born, date):
            raise TypeError("born must be a date")
        dob: str | None = born.isoformat()
        errors = 0 if first and rng.random() < 0.6 else rng.choice([1, 1, 1, 2, 2, 3])
        for _ in range(errors):
            kind = rng.choice(["typo", "accent", "swap", "variant", "compound", "jan1",
                               "daymonth", "missing_dob", "missing_field", "case"])  # fmt: skip
            if kind == "typo":
                if rng.random() < 0.5:
                    given = self._typo(given)
                else:
                    family = self._typo(family)
            elif kind == "accent":
                given = "".join(ACCENTED.get(c, c) if rng.random() < 0.3 else c for c in given)
            elif kind == "swap":
                given, family = family, given
            elif kind == "variant":
                if given in VARIANTS:
                    given = rng.choice(VARIANTS[given])
                elif family in VARIANTS:
                    family = rng.choice(VARIANTS[family])
            elif kind == "compound" and ("-" in given or " " in given):
                given = given.replace("-", " ").split()[0]
            elif kind == "compound" and ("-" in family or " " in family):
                family = family.replace("-", " ").split()[0]
            elif kind == "jan1" and dob:
                dob = f"{born.year}-01-01"
            elif kind == "daymonth" and dob and born.day <= 12:
                dob = f"{born.year}-{born.day:02d}-{born.month:02d}"
            elif kind == "missing_dob" and rng.random() < 0.5:
                dob = None
            elif kind == "case":
                given, family = given.upper(), family.upper()
        missing = rng.random() < 0.15
        return {
            "given_name": given, "family_name": family,
            "sex": "" if missing and rng.random() < 0.5 else str(p["sex"]).upper(),
            "date_of_birth": dob or "",
            "birth_place": "" if rng.random() < 0.3 else str(p["place"]),
            "postcode": "" if missing and rng.random() < 0.5 else str(p["area"]),
        }  # fmt: skip

    def rows(self, n: int) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        person = 0
        while len(out) < n:
            person += 1
            p = self.person()
            size = self.rng.choices([1, 2, 3, 4, 5], [35, 30, 18, 11, 6])[0]
            orgs = self.rng.sample(self.orgs, min(size, len(self.orgs)))
            for i in range(size):
                # A within-org duplicate: the same org registered the person twice.
                org = orgs[i] if i < len(orgs) and self.rng.random() > 0.12 else orgs[0]
                row = self.record(p, first=i == 0)
                out.append({"record_id": str(len(out) + 1), "org": org, **row,
                            "person_id": f"p{person}"})  # fmt: skip
        return out[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--orgs", type=int, default=5)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rows = Generator(args.seed, args.orgs).rows(args.records)
    columns = ["record_id", "org", "given_name", "family_name", "sex", "date_of_birth",
               "birth_place", "postcode", "person_id"]  # fmt: skip
    with open(args.out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()

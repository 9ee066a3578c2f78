"""Reading the outreach forms into service inputs, with errors by field in plain words.

Every parser returns the input (or None) and a dict of field -> messages; the views merge these
with the services' ValidationFailed errors, so every wrong field is named at once.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from databank.domain.dates import as_utc, iso_day
from databank.domain.enums import NeedSeverity, Purpose
from databank.domain.errors import ValidationFailed
from databank.domain.vocab import EthosCategory, NeedCategory, ServiceGiven
from databank.services.inputs import ConsentIn, EncounterIn, IdentityIn, NeedIn, Point
from databank.web.deployment import area, local_zone

T = TypeVar("T")
Errors = dict[str, list[str]]
Form = MultiDict[str, str]

# A time typed on the page (no zone) is in the deployment's time zone (DATABANK_TIME_ZONE).
TIME_FORMAT = "%Y-%m-%dT%H:%M"
CLOCK_SKEW = timedelta(minutes=5)

# The services' messages, said the way a worker in the street would want to read them.
_PLAIN: Mapping[str, object] = {
    "is required": _l("Please fill this in."),
    "needs at least one letter or digit": _l("Please type at least one letter or number."),
    "is in the future": _l("This is in the future. Please check it."),
    "is before 1900": _l("Please check the year: it is before 1900."),
    "is already past": _l("This date has already passed. Choose a later one."),
    "name at least one purpose": _l("Tick at least one reason for sharing."),
    "name at least one recipient organisation or kind": _l(
        "Tick at least one organisation or kind of organisation."
    ),
    "must be between -90 and 90": _l("The point is not on the map. Please set it again."),
    "must be between -180 and 180": _l("The point is not on the map. Please set it again."),
    "needs a time zone": _l("Please give the time again."),
}


def plain(errors: Mapping[str, list[str]]) -> Errors:
    """The same errors, each message in plain words where we know a better one."""
    return {field: [str(_PLAIN.get(m, m)) for m in messages] for field, messages in errors.items()}


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _build(errors: Errors, make: Callable[[], T]) -> T | None:
    """Build a service input; its own checks add to the errors instead of raising."""
    try:
        return make()
    except ValidationFailed as failed:
        for field, messages in plain(failed.errors).items():
            errors.setdefault(field, []).extend(messages)
        return None


def _text(form: Form, name: str) -> str:
    return (form.get(name) or "").strip()


def parse_date(form: Form, name: str, errors: Errors, required: bool = True) -> date | None:
    value = _text(form, name)
    if not value:
        if required:
            _add(errors, name, _("Please give a date."))
        return None
    day = iso_day(value)
    if day is None:
        _add(errors, name, _("Please give a date as day, month and year."))
    return day


def parse_search(form: Form) -> tuple[str, date | None, Errors]:
    errors: Errors = {}
    family_name = _text(form, "family_name")
    if not family_name:
        _add(errors, "family_name", _("Please type the family name."))
    return family_name, parse_date(form, "birth_date", errors), errors


def parse_identity(form: Form, errors: Errors) -> IdentityIn | None:
    birth_date = parse_date(form, "birth_date", errors)
    if birth_date is None:
        # The other fields are still checked, so every mistake shows at once.
        birth_date = date(2000, 1, 1)
    phone = _text(form, "phone") or None
    identity = _build(
        errors,
        lambda: IdentityIn(
            given_name=_text(form, "given_name"),
            family_name=_text(form, "family_name"),
            birth_date=birth_date,
            phone=phone,
        ),
    )
    return None if errors else identity


def parse_living_situation(form: Form, errors: Errors) -> EthosCategory:
    value = form.get("living_situation") or EthosCategory.UNKNOWN.value
    try:
        return EthosCategory(value)
    except ValueError:
        _add(errors, "living_situation", _("Please choose one of the listed situations."))
        return EthosCategory.UNKNOWN


def parse_needs(form: Form, errors: Errors) -> list[NeedIn]:
    needs = []
    for value in form.getlist("needs"):
        try:
            category = NeedCategory(value)
        except ValueError:
            _add(errors, "needs", _("Please choose needs from the list."))
            continue
        severity = form.get(f"severity_{category.value}") or NeedSeverity.MEDIUM.value
        try:
            needs.append(NeedIn(category, NeedSeverity(severity)))
        except ValueError:
            _add(errors, "needs", _("Please choose how urgent from the list."))
    return needs


def parse_services(form: Form, errors: Errors) -> list[str]:
    known = {s.value for s in ServiceGiven}
    chosen = form.getlist("services_given")
    if any(s not in known for s in chosen):
        _add(errors, "services_given", _("Please choose from the list."))
    return [s for s in chosen if s in known]


Place = tuple[Point | None, str | None, str | None]  # point, district cell, area code


def parse_place(form: Form, errors: Errors, required: bool) -> Place:
    """The precise point (from the device or the map) if given, else the district picked.

    The point is sealed at rest by the service; the clear district is derived from it there.
    A district picked from the list is kept as its cell (clear) and its code (sealed), so the
    pages name the district the worker picked, not every area sharing its cell.
    """
    lat, lon = _text(form, "lat"), _text(form, "lon")
    if lat and lon:
        try:
            numbers = float(lat), float(lon)
        except ValueError:
            numbers = (math.nan, math.nan)
        if not all(math.isfinite(n) for n in numbers):
            _add(errors, "place", _("The point is not on the map. Please set it again."))
            return None, None, None
        point = _build(errors, lambda: Point(*numbers))
        for axis in ("lat", "lon"):  # one message for the place, not one per coordinate
            for message in errors.pop(axis, []):
                if message not in errors.get("place", []):
                    _add(errors, "place", message)
        return point, None, None
    code = _text(form, "district")
    if code:
        picked = area(code)
        if picked is None:  # not one of this deployment's areas
            _add(errors, "district", _("Please choose a district from the list."))
            return None, None, None
        return None, picked.cell, picked.code
    if required:
        _add(
            errors,
            "district",
            _("Please say where: use your location, tap the map, or choose a district."),
        )
    return None, None, None


def parse_time(form: Form, errors: Errors) -> datetime | None:
    value = _text(form, "occurred_at")
    if not value:
        return datetime.now(UTC)
    try:
        local = datetime.strptime(value, TIME_FORMAT)
    except ValueError:
        try:
            local = datetime.fromisoformat(value)
        except ValueError:
            _add(errors, "occurred_at", _("Please give a date and a time."))
            return None
    aware = as_utc(local if local.tzinfo else local.replace(tzinfo=local_zone()))
    if aware is None:  # a year Python cannot carry to UTC (year 1 at +14:00)
        _add(errors, "occurred_at", _("Please give a date and a time."))
        return None
    now = datetime.now(UTC)
    # A phone's clock a few minutes ahead of the server's is not "in the future".
    return now if now < aware <= now + CLOCK_SKEW else aware


def parse_encounter(form: Form, errors: Errors) -> EncounterIn | None:
    occurred_at = parse_time(form, errors)
    point, district, area = parse_place(form, errors, required=True)
    needs = parse_needs(form, errors)
    services_given = parse_services(form, errors)
    notes = _text(form, "notes") or None
    if occurred_at is None:
        return None
    encounter = _build(
        errors,
        lambda: EncounterIn(
            occurred_at=occurred_at,
            needs=tuple(needs),
            services_given=tuple(services_given),
            district=district,
            point=point,
            notes=notes,
            area=area,
        ),
    )
    return None if errors else encounter


def parse_consent(
    form: Form, errors: Errors, partner_ids: set[uuid.UUID], purposes: list[Purpose]
) -> ConsentIn | None:
    chosen = []
    for value in form.getlist("purposes"):
        if value not in {p.value for p in purposes}:
            _add(errors, "purposes", _("Please choose reasons from the list."))
        else:
            chosen.append(Purpose(value))
    org_ids = []
    for value in form.getlist("recipient_org_ids"):
        try:
            org_id = uuid.UUID(value)
        except ValueError:
            org_id = None
        if org_id not in partner_ids:
            _add(errors, "recipients", _("Please choose organisations from the list."))
        elif org_id is not None:
            org_ids.append(org_id)
    kinds = form.getlist("recipient_org_kinds")
    expires = parse_date(form, "expires_on", errors, required=False)
    # The end of that day where the person is; None for a day Python cannot carry to UTC (the
    # consent's own check then says why).
    expires_at = (
        as_utc(datetime.combine(expires, datetime.max.time(), local_zone())) if expires else None
    )
    if expires and expires_at is None:
        _add(errors, "expires_on", _("Please give a date as day, month and year."))
    consent = _build(
        errors,
        lambda: ConsentIn(
            purposes=tuple(chosen),
            recipient_org_ids=tuple(org_ids),
            recipient_org_kinds=tuple(kinds),
            expires_at=expires_at,
        ),
    )
    if "expires_at" in errors:
        errors["expires_on"] = errors.pop("expires_at")
    if "recipient_org_kinds" in errors:
        errors.setdefault("recipients", []).extend(errors.pop("recipient_org_kinds"))
    return None if errors else consent


def submission_id(form: Form) -> str | None:
    """The client's idempotency key, if it is a UUID (anything else is ignored)."""
    value = _text(form, "submission_id")
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None

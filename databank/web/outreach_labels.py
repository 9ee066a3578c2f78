"""The words of the outreach pages: labels of the vocabularies, field names, the areas' names."""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import lazy_gettext as _l

from databank.domain.enums import NeedSeverity, OrgKind
from databank.domain.vocab import (
    ETHOS_LABELS,
    NEED_LABELS,
    SERVICE_LABELS,
    EthosCategory,
    NeedCategory,
    ServiceGiven,
)
from databank.services.inputs import MAX_NOTE_LENGTH
from databank.services.records.cases import Place
from databank.web.auth import purpose_info as purpose_info
from databank.web.case_lifecycle import NEED_STATUS_LABELS
from databank.web.deployment import choices, one_area_name
from databank.web.i18n import select_locale

ORG_KIND_LABELS = {
    OrgKind.COUNCIL: _l("Council social services"),
    OrgKind.CHARITY: _l("Charities"),
    OrgKind.HOUSING_PROVIDER: _l("Housing providers"),
    OrgKind.HEALTH: _l("Health services"),
    OrgKind.OTHER: _l("Other organisations"),
}
SEVERITY_LABELS = {
    NeedSeverity.LOW: _l("Low"),
    NeedSeverity.MEDIUM: _l("Medium"),
    NeedSeverity.HIGH: _l("High"),
    NeedSeverity.URGENT: _l("Urgent"),
}


# Field keys of errors -> (label, id of the control to jump to) for the error summary.
FIELD_NAMES = {
    "family_name": (_l("Family name"), "family_name"),
    "given_name": (_l("First name"), "given_name"),
    "birth_date": (_l("Date of birth"), "birth_date"),
    "phone": (_l("Phone number"), "phone"),
    "living_situation": (_l("Where do they sleep now?"), "living_situation"),
    "needs": (_l("Needs"), "needs-group"),
    "services_given": (_l("Services given"), "services-group"),
    "occurred_at": (_l("When"), "occurred_at"),
    "place": (_l("Where"), "place-group"),
    "district": (_l("District"), "district"),
    "notes": (_l("Short note"), "notes"),
    "recipients": (_l("Who may see the file?"), "recipients-group"),
    "purposes": (_l("What for?"), "purposes-group"),
    "expires_on": (_l("Until"), "expires_on"),
    "replaces": (_l("Consent"), "record-title"),
    "to_org": (_l("Refer to"), "to_org-group"),
    "purpose": (_l("What for?"), "ref-purpose"),
    "need": (_l("Main need"), "need"),
    "note": (_l("Reason for the referral"), "note"),
    "justification": (_l("Why"), "justification"),
    "consent": (_l("Consent"), "consent"),
}


def vocabulary() -> dict[str, Any]:
    """The closed lists the forms offer, labelled in the user's language."""
    locale = select_locale()
    return {
        "needs_list": [(c.value, NEED_LABELS[c].for_locale(locale)) for c in NeedCategory],
        "severities": [(s.value, SEVERITY_LABELS[s]) for s in NeedSeverity],
        "services_list": [(s.value, SERVICE_LABELS[s].for_locale(locale)) for s in ServiceGiven],
        "ethos_list": [(e.value, ETHOS_LABELS[e].for_locale(locale)) for e in EthosCategory],
        "districts": choices(locale),
        "need_label": lambda c: NEED_LABELS[c].for_locale(locale),
        "severity_label": lambda s: SEVERITY_LABELS[s],
        "need_status_label": lambda s: str(NEED_STATUS_LABELS.get(s, s)),
        "service_label": service_label,
        "ethos_label": lambda e: ETHOS_LABELS[e].for_locale(locale),
        "district_name": district_name,
        "place_name": place_name,
        "max_note": MAX_NOTE_LENGTH,
        "names": FIELD_NAMES,
        "new_submission_id": lambda: str(uuid.uuid4()),
    }


def service_label(value: str) -> str:
    try:
        return SERVICE_LABELS[ServiceGiven(value)].for_locale(select_locale())
    except ValueError:  # a service recorded by an import under another word
        return value


def district_name(geohash: str | None) -> str:
    """A district geohash in words: one of the deployment's areas (deployment.one_area_name)."""
    return one_area_name(geohash, select_locale())


def place_name(place: Place | None) -> str:
    """Where a case or an encounter is, as released, in words: the one area entered."""
    if place is None:
        return ""
    point = (place.point.lat, place.point.lon) if place.point else None
    return one_area_name(place.geohash, select_locale(), point, place.area)

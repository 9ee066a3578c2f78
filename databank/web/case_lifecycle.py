"""What a case page shows and offers of its lifecycle: the changes the role may make (asked of
the owner's policy, never decided here), the choices of each form, and the case's history in
the user's language. The forms' routes are in web/lifecycle.py."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from databank import policy
from databank.domain.enums import CaseEventKind, NeedSeverity, NeedStatus, Purpose
from databank.domain.vocab import (
    CLOSE_REASON_LABELS,
    DESTINATIONS,
    ETHOS_LABELS,
    NEED_LABELS,
    CloseReason,
    Destination,
    EthosCategory,
    NeedCategory,
)
from databank.services.actors import Actor
from databank.services.records import lifecycle
from databank.services.records.cases import CaseView
from databank.web.i18n import select_locale

NEED_STATUS_LABELS: Mapping[str, Any] = {
    NeedStatus.IDENTIFIED: _l("open"),
    NeedStatus.IN_PROGRESS: _l("in progress"),
    NeedStatus.MET: _l("met"),
    NeedStatus.NOT_MET: _l("not met"),
    NeedStatus.WITHDRAWN: _l("withdrawn"),
}
SEVERITY_LABELS: Mapping[str, Any] = {
    NeedSeverity.LOW: _l("low"),
    NeedSeverity.MEDIUM: _l("medium"),
    NeedSeverity.HIGH: _l("high"),
    NeedSeverity.URGENT: _l("urgent"),
}


@dataclass(frozen=True)
class Coded:
    """A code of a closed vocabulary and its label in the user's language."""

    code: str
    label: str


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    kind: CaseEventKind
    need: Coded | None
    before: Coded | None
    after: Coded | None
    detail: Coded | None
    by: str | None = None  # a colleague's name (the owner's staff only)


def _label(kind: CaseEventKind, code: str | None, locale: str) -> Coded | None:
    """A history code in words: ETHOS categories, need statuses and urgencies, closing reasons
    and destinations (an unknown code is shown as it is)."""
    if code is None:
        return None
    text: object = code
    if kind is CaseEventKind.LIVING_SITUATION and code in EthosCategory.__members__.values():
        text = ETHOS_LABELS[EthosCategory(code)].for_locale(locale)
    elif kind is CaseEventKind.NEED_STATUS:
        text = NEED_STATUS_LABELS.get(code, code)
    elif kind is CaseEventKind.NEED_SEVERITY:
        text = SEVERITY_LABELS.get(code, code)
    elif code in CloseReason.__members__.values():
        text = CLOSE_REASON_LABELS[CloseReason(code)].for_locale(locale)
    elif code == "open":
        text = _("open")
    return Coded(code, str(text))


def _destination(code: str | None, locale: str) -> Coded | None:
    if code is None or code not in Destination.__members__.values():
        return None if code is None else Coded(code, code)
    return Coded(code, DESTINATIONS[Destination(code)].label.for_locale(locale))


def history_lines(
    events: tuple[lifecycle.CaseEventView, ...], names: Mapping[uuid.UUID, str]
) -> list[HistoryLine]:
    """A case's released changes, newest first, in words (codes kept machine-readable)."""
    locale = select_locale()
    lines = []
    for e in events:
        need = (
            Coded(e.need_category.value, NEED_LABELS[e.need_category].for_locale(locale))
            if e.need_category
            else None
        )
        if e.kind is CaseEventKind.LIVING_SITUATION:
            detail = Coded(e.detail_code, f"HUD {e.detail_code}") if e.detail_code else None
        else:
            detail = _destination(e.detail_code, locale)
        lines.append(
            HistoryLine(
                e.at,
                e.kind,
                need,
                _label(e.kind, e.from_code, locale),
                _label(e.kind, e.to_code, locale),
                detail,
                names.get(e.by_id) if e.by_id else None,
            )
        )
    return lines[::-1]


def choices() -> dict[str, Any]:
    """The options of the lifecycle forms, labelled in the user's language."""
    locale = select_locale()
    destinations: dict[str, list[tuple[str, str]]] = {r.value: [] for r in CloseReason}
    for code, info in DESTINATIONS.items():
        destinations[info.reason.value].append((code.value, info.label.for_locale(locale)))
    return {
        "reasons": [(r.value, CLOSE_REASON_LABELS[r].for_locale(locale)) for r in CloseReason],
        "destination_groups": [
            (str(_("Housed")), destinations[CloseReason.HOUSED.value]),
            (str(_("Sheltered")), destinations[CloseReason.SHELTERED.value]),
        ],
        "situations": [(c.value, ETHOS_LABELS[c].for_locale(locale)) for c in EthosCategory],
        "need_statuses": [(str(s), str(label)) for s, label in NEED_STATUS_LABELS.items()],
        "severities": [(str(s), str(label)) for s, label in SEVERITY_LABELS.items()],
    }


def closing_labels(view: CaseView) -> tuple[Coded | None, Coded | None]:
    """A closed case's reason and destination in words (None where withheld or open)."""
    locale = select_locale()
    reason = (
        Coded(view.close_reason.value, CLOSE_REASON_LABELS[view.close_reason].for_locale(locale))
        if view.close_reason
        else None
    )
    where = _destination(view.destination.value, locale) if view.destination else None
    return reason, where


def need_field(category: NeedCategory) -> str:
    return policy.need_field(category)


def context(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    view: CaseView,
    errors: Mapping[str, list[str]] | None = None,
    form: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What case.html needs of the lifecycle: the changes the actor may make now (the owner's
    policy, asked without logging: each change is decided and logged when made), the forms'
    choices, the history as the read released it, and a failed form's errors and values."""
    changes = lifecycle.allowed_changes(session, actor, purpose, view)
    reason, destination = closing_labels(view)
    events = lifecycle.history(session, actor, view)
    names = lifecycle.staff_names(session, actor, [e.by_id for e in events])
    return {
        "changes": changes,
        "lifecycle": choices() if changes else {},
        "history": history_lines(events, names),
        "closing": {"reason": reason, "destination": destination},
        "need_field": need_field,
        "need_status_label": lambda s: str(NEED_STATUS_LABELS.get(s, s)),
        "errors": dict(errors or {}),
        "form": dict(form or {}),
    }

"""Alert detection: alerts raised from the log's rows as they are written, beside the writer.

Reviewing them is an auditor's use case, above the access point: `services/oversight/alerts.py`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    distinct,
    func,
    select,
)
from sqlalchemy.orm import Session

from databank.audit.alert_rules import (
    ALERTS_FILE,
    OMITTED,
    PLACE_READS,
    READ,
    RELEASED,
    AlertRules,
    Draft,
    WindowedRule,
    candidates,
    load_alert_rules,
)
from databank.domain.enums import AlertStatus, Decision
from databank.models import AuditAlert, AuditEntry, Case, Subject
from databank.services.context import policy_of

MAX_SEQS = 100  # entry numbers kept on an alert: enough to start from, bounded in size
RULES_KEY = "alert_rules"  # session.info key of `use_rules`
_rules_by_directory: dict[Path, AlertRules] = {}


def rules_of(session: Session) -> AlertRules:
    """The thresholds in force: policies/alerts.yaml, loaded once per policies directory."""
    override = session.info.get(RULES_KEY)
    if isinstance(override, AlertRules):
        return override
    directory = policy_of(session).bundle.directory
    rules = _rules_by_directory.get(directory)
    if rules is None:
        path = directory / ALERTS_FILE
        # A policies directory without the file (a test bundle) gets the documented defaults;
        # a malformed file raises, and so stops every logged operation until it is fixed.
        rules = load_alert_rules(path) if path.is_file() else AlertRules()
        _rules_by_directory[directory] = rules
    return rules


def use_rules(session: Session, rules: AlertRules | None) -> None:
    """Test hook: evaluate this session's entries with other thresholds (None: the file's)."""
    if rules is None:
        session.info.pop(RULES_KEY, None)
    else:
        session.info[RULES_KEY] = rules


def evaluate(
    session: Session,
    rows: Sequence[Mapping[str, Any]],
    people: Sequence[uuid.UUID | None] | None = None,
) -> list[AuditAlert]:
    """Raise the alerts that just-inserted log rows call for; returns the alerts added.
    `people` are the rows' pooled persons (their column holds the holder's handle).

    Runs inside `auditlog.append`, under the log's head lock and in its transaction, so two
    appends cannot both miss (or both raise) an alert. The rows' columns say first which rules
    could fire, and only those query the log: an owner's ordinary read costs no query.
    Never appends to the log itself: an alert is its own row.
    """
    rules = rules_of(session)
    found = candidates(rows, rules, people)
    drafts: list[Draft | None] = [*found.immediate, *_to_holders(session, found.immediate)]
    sweep, bulk, burst = rules.district_sweep, rules.bulk_reads, rules.denial_burst
    for (org, area), at in found.sweeps.items():
        drafts.append(_check(session, _SWEEP, at, sweep, org, None, area))
    for (org, user), at in found.readers.items():
        drafts.append(_check(session, _BULK_ALL if bulk.own_org else _BULK, at, bulk, org, user))
    for (org, user), at in found.refused.items():
        drafts.append(_check(session, _BURST, at, burst, org, user))
    return [_add(session, draft) for draft in drafts if draft is not None]


def _to_holders(session: Session, drafts: Sequence[Draft]) -> list[Draft]:
    """A break-glass alert for each other organisation holding the person's records: a
    break-glass window opens all of them, so every holder's auditors are told at once, not only
    the responder's (design section 6; the responder's own alert names the responder's org)."""
    out = []
    for draft in drafts:
        if draft.rule != "break_glass" or draft.person_id is None:
            continue
        holders = session.scalars(
            select(Case.org_id)
            .join(Subject, Subject.id == Case.subject_id)
            .where(Subject.person_id == draft.person_id)
            .distinct()
        ).all()
        out += [replace(draft, owner_org_id=org) for org in holders if org != draft.owner_org_id]
    return out


_ORG: BindParameter[uuid.UUID] = bindparam("org")
_USER: BindParameter[uuid.UUID] = bindparam("user")
_SINCE: BindParameter[datetime] = bindparam("since")
# A user's entries in the window, through the index (actor_org_id, at).
_USERS = [
    AuditEntry.actor_org_id == _ORG,
    AuditEntry.at >= _SINCE,
    AuditEntry.actor_user_id == _USER,
]
_RELEASED = [AuditEntry.decision.in_(RELEASED), AuditEntry.person_id.is_not(None)]
_OPENED = [AuditEntry.event == READ, *_RELEASED]  # records read one by one
_PLACES = [AuditEntry.event.in_(PLACE_READS), *_RELEASED]  # ... and a list's lines


@dataclass(frozen=True)
class _Queries:
    """One windowed rule's queries, built once: building them per read cost more than running
    them (profiled)."""

    rule: str
    counted: str  # the details key of the count
    open_alert: Select[uuid.UUID]
    reach: Select[Any]  # up to :cap entries, or distinct people
    count: Select[int]
    seqs: Select[int]
    owners: Select[uuid.UUID | None]

    @classmethod
    def of(cls, rule: str, where: list[ColumnElement[bool]], same: ColumnElement[bool]) -> _Queries:
        people = rule != "denial_burst"
        reach = select(AuditEntry.person_id if people else AuditEntry.seq).where(*where)
        counted = func.count(distinct(AuditEntry.person_id)) if people else func.count()
        open_alert = select(AuditAlert.id).where(
            AuditAlert.status == AlertStatus.OPEN,
            AuditAlert.created_at >= _SINCE,
            AuditAlert.rule == rule,
            same,
        )
        return cls(
            rule,
            "distinct_people" if people else "denials",
            open_alert.limit(1),
            (reach.distinct() if people else reach).limit(bindparam("cap", type_=Integer)),
            select(counted).select_from(AuditEntry).where(*where),
            select(AuditEntry.seq).where(*where).order_by(AuditEntry.seq.desc()).limit(MAX_SEQS),
            select(AuditEntry.owner_org_id).where(*where).distinct().limit(2),
        )


_SWEEP = _Queries.of(
    "district_sweep",
    [
        AuditEntry.actor_org_id == _ORG,  # index (actor_org_id, area, at), partial:
        AuditEntry.area == bindparam("area"),  # ... area IS NOT NULL (implied here)
        AuditEntry.at >= _SINCE,
        AuditEntry.owner_org_id != _ORG,
        AuditEntry.owner_org_id != AuditEntry.actor_org_id,  # ... and this term, as written there
        *_PLACES,
    ],
    and_(
        AuditAlert.actor_org_id == _ORG,
        AuditAlert.details["area"].as_string() == bindparam("area"),
    ),
)
_BY_USER = AuditAlert.actor_user_id == _USER
_BULK = _Queries.of("bulk_reads", [*_USERS, *_OPENED, AuditEntry.owner_org_id != _ORG], _BY_USER)
_BULK_ALL = _Queries.of("bulk_reads", [*_USERS, *_OPENED], _BY_USER)  # bulk_reads.own_org
# A denial burst counts the user's refused requests; rows a list or a page section left out are
# logged as omitted, not refused (a caseload page walking past partners' cases is no probing).
_BURST = _Queries.of(
    "denial_burst",
    [*_USERS, AuditEntry.decision == Decision.DENY, AuditEntry.event != OMITTED],
    _BY_USER,
)


def _check(
    session: Session,
    queries: _Queries,
    at: datetime,
    rule: WindowedRule,
    org: uuid.UUID,
    user: uuid.UUID | None,
    area: str | None = None,
) -> Draft | None:
    """The alert if the count reaches the rule's threshold within its window, else None.

    Nothing is counted while an open alert of this rule for the same subject (user, or org and
    district) was created within the window: one sweep, one alert, and one cheap query per read
    of a sweep going on. Only open alerts count, so a pattern that goes on after a review is
    raised again. Counting stops once the threshold is reached.
    """
    params: dict[str, object] = {"org": org, "user": user, "area": area}
    params["since"] = at - rule.window
    if session.scalars(queries.open_alert, params).first() is not None:
        return None
    params["cap"] = rule.fires_at
    if len(session.scalars(queries.reach, params).all()) < rule.fires_at:
        return None
    # The district code (geohash of 5) is the finest place an alert ever names.
    details: dict[str, object] = {"area": area} if area else {}
    details[queries.counted] = session.scalar(queries.count, params)
    details.update(rule.describe())
    seqs = tuple(session.scalars(queries.seqs, params))
    # Name the owner org when all those entries are one org's records, so its auditors see it.
    owners = list(session.scalars(queries.owners, params))
    details["owner_orgs"] = len(owners) if len(owners) < 2 else "several"
    owner = owners[0] if len(owners) == 1 else None
    return Draft(queries.rule, user, org, owner, None, at, seqs, details)


def _add(session: Session, draft: Draft) -> AuditAlert:
    alert = AuditAlert(
        id=uuid.uuid4(),
        rule=draft.rule,
        created_at=draft.at,
        actor_user_id=draft.actor_user_id,
        actor_org_id=draft.actor_org_id,
        owner_org_id=draft.owner_org_id,
        person_id=draft.person_id,
        entry_seqs=[str(seq) for seq in sorted(draft.seqs)[-MAX_SEQS:]],
        details=draft.details,
        status=AlertStatus.OPEN,
    )
    session.add(alert)
    return alert


def raise_integrity_alert(
    session: Session, problem_seq: int | None, kind: str, reason: str
) -> AuditAlert:
    """`audit verify` failed: an alert for the platform auditors (once per open problem).

    `reason` is verify's own text (entry numbers and checks, never entry content).
    """
    open_alerts = session.scalars(
        select(AuditAlert).where(
            AuditAlert.status == AlertStatus.OPEN, AuditAlert.rule == "log_integrity"
        )
    )
    for alert in open_alerts:
        if alert.details.get("kind") == kind and alert.details.get("seq") == problem_seq:
            return alert
    details: dict[str, object] = {"kind": kind, "seq": problem_seq, "reason": reason}
    seqs = () if problem_seq is None else (problem_seq,)
    now = datetime.now(UTC)
    return _add(session, Draft("log_integrity", None, None, None, None, now, seqs, details))

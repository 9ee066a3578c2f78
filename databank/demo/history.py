"""What happened to the demo city's people after they were first met, played through the
lifecycle services with the dates it happened (`at`): needs met, referrals answered, cases
closed with a reason and, for housed or sheltered, a destination. Without it every demo case
would be open, every need open and every referral pending, and the statistics would have no
outcome, no flow out of homelessness and no waiting time to show.

Seeded: the same seed plays the same history. Odds are rough orders of magnitude of outreach
services' own reports (about a third of episodes closed within the year, a third of those housed).
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.enums import NeedStatus, Purpose
from databank.domain.referrals import DeclineReason
from databank.domain.vocab import CloseReason, Destination
from databank.models import Need
from databank.services.actors import Actor
from databank.services.records import lifecycle, referrals

T = TypeVar("T")

_CLOSING: dict[CloseReason, float] = {
    CloseReason.HOUSED: 0.35,
    CloseReason.SHELTERED: 0.25,
    CloseReason.LOST_CONTACT: 0.2,
    CloseReason.MOVED_AWAY: 0.12,
    CloseReason.DECLINED_SUPPORT: 0.08,
}
_WHERE = {
    CloseReason.HOUSED: (Destination.RENTAL_SUBSIDISED, Destination.RENTAL_PRIVATE,
                         Destination.FAMILY_PERMANENT),
    CloseReason.SHELTERED: (Destination.HOSTEL, Destination.SUPPORTED_HOUSING,
                            Destination.EMERGENCY_SHELTER, Destination.FAMILY_TEMPORARY),
}  # fmt: skip
_NEEDS: dict[NeedStatus, float] = {
    NeedStatus.MET: 0.3,
    NeedStatus.IN_PROGRESS: 0.15,
    NeedStatus.NOT_MET: 0.05,
}
_DECLINES = (DeclineReason.NO_CAPACITY, DeclineReason.NOT_ELIGIBLE, DeclineReason.OUT_OF_AREA,
             DeclineReason.PERSON_DECLINED)  # fmt: skip


@dataclass(frozen=True)
class Episode:
    org: str  # the owner's slug
    purpose: Purpose  # what its worker declares
    case_id: uuid.UUID
    opened_at: datetime
    referral_id: uuid.UUID | None = None
    referred_to: str | None = None
    sent_at: datetime | None = None
    # A child's or a survivor's case: several owners share it with no partner, so the partner
    # cannot answer its referral through the databank (the demo leaves those pending).
    protected: bool = False


def _pick(rng: random.Random, odds: Mapping[T, float]) -> T | None:
    roll = rng.random()
    for value, share in odds.items():
        if roll < share:
            return value
        roll -= share
    return None


def _between(rng: random.Random, first: datetime, last: datetime) -> datetime | None:
    if last <= first:
        return None
    return first + timedelta(seconds=rng.randint(0, int((last - first).total_seconds())))


def play(
    session: Session,
    workers: Mapping[str, Actor],
    episodes: Sequence[Episode],
    now: datetime,
    seed: int,
) -> Counter[str]:
    """Play each episode's history in date order; returns how many of each change were made."""
    rng = random.Random(seed * 7919 + 17)  # noqa: S311 - synthetic demo data, not security
    done: Counter[str] = Counter()
    yesterday = now - timedelta(days=1)
    for episode in episodes:
        worker = workers[episode.org]
        latest = episode.opened_at
        needs = session.scalars(
            select(Need).where(Need.case_id == episode.case_id).order_by(Need.identified_at)
        ).all()
        for need in needs:
            status = _pick(rng, _NEEDS)
            when = _between(rng, need.identified_at + timedelta(days=2), yesterday)
            if status is None or when is None:
                continue
            lifecycle.change_need(
                session, worker, episode.purpose, episode.case_id, need.id,
                status=status, at=when,
            )  # fmt: skip
            latest = max(latest, when)
            done[f"need_{status}"] += 1
        answerable = episode.referral_id and episode.sent_at and episode.referred_to
        sent = episode.sent_at
        if answerable and sent is not None and not episode.protected and rng.random() < 0.75:
            when = _between(rng, sent, min(yesterday, sent + timedelta(days=45)))
            if when is not None and episode.referral_id and episode.referred_to:
                receiver = workers[episode.referred_to]
                if rng.random() < 0.75:
                    referrals.accept(session, receiver, episode.referral_id, at=when)
                    done["referrals_accepted"] += 1
                else:
                    why = _DECLINES[rng.randrange(len(_DECLINES))]
                    referrals.decline(session, receiver, episode.referral_id, why, at=when)
                    done["referrals_declined"] += 1
                latest = max(latest, when)
        if (now - episode.opened_at).days > 30 and rng.random() < 0.35:
            reason = _pick(rng, _CLOSING)
            when = _between(rng, max(latest, episode.opened_at + timedelta(days=14)), yesterday)
            if reason is None or when is None:
                continue
            places = _WHERE.get(reason)
            where = places[rng.randrange(len(places))] if places else None
            lifecycle.close_case(
                session, worker, episode.purpose, episode.case_id, reason, where,
                at=when,
            )  # fmt: skip
            done[f"closed_{reason}"] += 1
    return done

"""Groups: a community per region, a workplace per employer, and clubs; joins and leaves.

Membership follows life: moving region means leaving the old community, changing job means
leaving the old workplace group; members join the new ones with the configured shares.
"""

from __future__ import annotations

import typing

import numpy as np

from openscore.ledger.catalogue import GroupKind
from openscore.simulate.blocks import Codes, Ints, Numbered
from openscore.simulate.clock import DAY, HOUR
from openscore.simulate.state import NEVER, NOBODY, Step, month_time

GROUP_KINDS: tuple[str, ...] = typing.get_args(GroupKind)
COMMUNITY, WORKPLACE, CLUB = (GROUP_KINDS.index(k) for k in ("community", "workplace", "club"))
_PREFIX = {COMMUNITY: "community-R", WORKPLACE: "workplace-E", CLUB: "club-"}


def group_ids(kind: int, group: Ints) -> Numbered:
    """Group ids: ``community-R3``, ``workplace-E17``, ``club-5``."""
    return Numbered(_PREFIX[kind], group + 1)


def _join(step: Step, kind: int, who: Ints, group: Ints, at: Ints) -> None:
    step.out.emit(
        "group_joined",
        at,
        who,
        step.city.sources.platform,
        {
            "group_id": group_ids(kind, group),
            "group_kind": Codes(np.full(len(who), kind), GROUP_KINDS),
        },
    )


def _leave(step: Step, kind: int, who: Ints, group: Ints, at: Ints) -> None:
    step.out.emit(
        "group_left", at, who, step.city.sources.platform, {"group_id": group_ids(kind, group)}
    )


def _membership(
    step: Step,
    kind: int,
    member_of: Ints,
    wanted: Ints,
    changed_at: Ints,
    share: float,
    rng: np.random.Generator,
) -> None:
    """Keep ``member_of`` in step with ``wanted`` (the group the member's life points to)."""
    city = step.city
    n = city.size
    live = city.active & (city.left_time == NEVER)
    stale = np.flatnonzero(live & (member_of != NOBODY) & (member_of != wanted))
    at = np.where(changed_at[stale] != NEVER, changed_at[stale] + HOUR, 0)
    at = np.where(at > 0, at, month_time(step.month, rng, len(stale)))
    _leave(step, kind, stale, member_of[stale], at)
    member_of[stale] = NOBODY
    newcomer = city.population.life_start == step.index
    fresh = live & (wanted != NOBODY) & (member_of == NOBODY)
    fresh &= newcomer | (changed_at != NEVER)
    who = np.flatnonzero(fresh & (rng.random(n) < share))
    at = np.where(
        changed_at[who] != NEVER,
        changed_at[who] + rng.integers(DAY, 10 * DAY, len(who)),
        month_time(step.month, rng, len(who)),
    )
    member_of[who] = wanted[who]
    _join(step, kind, who, wanted[who], at)


def groups(step: Step, leavers: Ints) -> None:
    """Joins and leaves of communities, workplace groups and clubs for the month."""
    city, rng = step.city, step.rng("groups")
    cfg = city.config.groups
    for kind, member_of in (
        (COMMUNITY, city.community),
        (WORKPLACE, city.workplace),
        (CLUB, city.club),
    ):
        who = leavers[member_of[leavers] != NOBODY]
        _leave(step, kind, who, member_of[who], city.left_time[who] - 60)
        member_of[who] = NOBODY
    _membership(
        step, COMMUNITY, city.community, city.region, step.move_time, cfg.community_join_share, rng
    )
    _membership(
        step,
        WORKPLACE,
        city.workplace,
        city.employer,
        step.job_change_time,
        cfg.workplace_join_share,
        rng,
    )
    # Clubs: members join one near home now and then, and drift away again.
    live = np.flatnonzero(city.active & (city.left_time == NEVER))
    u = rng.random(len(live))
    quitting = live[(city.club[live] != NOBODY) & (u < cfg.club_leave_rate)]
    _leave(step, CLUB, quitting, city.club[quitting], month_time(step.month, rng, len(quitting)))
    city.club[quitting] = NOBODY
    joining = live[(city.club[live] == NOBODY) & (u > 1 - cfg.club_join_rate)]
    per_region = max(1, city.clubs // city.regions)
    club = city.region[joining] + city.regions * rng.integers(0, per_region, len(joining))
    club = club % city.clubs
    city.club[joining] = club
    _join(step, CLUB, joining, club, month_time(step.month, rng, len(joining)))

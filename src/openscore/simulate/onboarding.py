"""Joining and leaving: enrolment with its first declarations, identity checks, opting out."""

from __future__ import annotations

import numpy as np

from openscore.simulate.blocks import Codes, Const, Ints, Numbered
from openscore.simulate.clock import DAY, HOUR
from openscore.simulate.state import Step, month_time
from openscore.simulate.traits import EDUCATION, HOUSING, OCCUPATIONS, STATUSES

VERIFICATION_METHODS = ("document", "bank_account", "in_person")
_METHOD_SHARES = (0.6, 0.3, 0.1)
LEAVE_REASONS = ("opt_out", "account_closed")


def region_ids(region: Ints) -> Numbered:
    """Region codes ``R1``, ``R2``... (coarse districts, never an address)."""
    return Numbered("R", region + 1)


def employer_ids(employer: Ints) -> Numbered:
    """Pseudonymous employer ids ``E1``... (null for nobody)."""
    return Numbered("E", np.where(employer >= 0, employer + 1, -1))


def declare_employment(step: Step, who: Ints, time: Ints) -> None:
    """``employment_changed`` declared by the members ``who`` at ``time``."""
    city = step.city
    step.out.emit(
        "employment_changed",
        time,
        who,
        city.sources.member,
        {
            "employment_status": Codes(city.status[who], STATUSES),
            "employer_id": employer_ids(city.employer[who]),
        },
    )


def declare_address(step: Step, who: Ints, time: Ints) -> None:
    """``address_changed`` declared by the members ``who`` at ``time``."""
    city = step.city
    step.out.emit(
        "address_changed",
        time,
        who,
        city.sources.member,
        {"region": region_ids(city.region[who]), "housing": Codes(city.housing[who], HOUSING)},
    )


def _verify(step: Step, who: Ints, time: Ints, rng: np.random.Generator) -> None:
    method = rng.choice(len(VERIFICATION_METHODS), size=len(who), p=_METHOD_SHARES)
    step.city.verified[who] = True
    step.out.emit(
        "identity_verified",
        time,
        who,
        step.city.sources.verifier,
        {"verification_method": Codes(method, VERIFICATION_METHODS)},
    )


def _declare_profile(step: Step, who: Ints, time: Ints, rng: np.random.Generator) -> None:
    city = step.city
    education = city.population.education[who].copy()
    occupation = city.occupation[who].copy()
    # Members fill in what they like: some leave one of the two fields empty, never both.
    skip = rng.random(len(who))
    education[skip < 0.15] = -1
    occupation[skip > 0.85] = -1
    step.out.emit(
        "profile_declared",
        time,
        who,
        city.sources.member,
        {"education": Codes(education, EDUCATION), "occupation": Codes(occupation, OCCUPATIONS)},
    )


def enrol(step: Step) -> None:
    """Members joining this month: enrolment, then verification and declarations."""
    city, rng = step.city, step.rng("enrolment")
    who = np.flatnonzero(city.population.enrol_month == step.index)
    if not len(who):
        return
    at = city.population.enrol_time[who]
    step.out.emit(
        "member_enrolled",
        at,
        who,
        city.sources.platform,
        {
            "terms_version": Const(city.config.city.terms_version),
            "connections_opt_in": city.population.opt_in[who],
        },
    )
    stability = city.config.stability
    verify = rng.random(len(who)) < stability.verified_at_enrolment
    _verify(step, who[verify], at[verify] + rng.integers(300, 3 * DAY, verify.sum()), rng)
    profile = rng.random(len(who)) < stability.profile_at_enrolment
    delay = rng.integers(600, 7 * DAY, profile.sum())
    _declare_profile(step, who[profile], at[profile] + delay, rng)
    address = rng.random(len(who)) < 0.8
    declare_address(step, who[address], at[address] + rng.integers(HOUR, 10 * DAY, address.sum()))
    work = rng.random(len(who)) < 0.7
    declare_employment(step, who[work], at[work] + rng.integers(HOUR, 10 * DAY, work.sum()))


def verify_and_declare(step: Step) -> None:
    """Later identity checks and profile updates of members already living in the city."""
    city, rng = step.city, step.rng("verification")
    stability = city.config.stability
    unverified = city.active & ~city.verified
    who = np.flatnonzero(unverified & (rng.random(city.size) < stability.monthly_verification))
    _verify(step, who, month_time(step.month, rng, len(who)), rng)
    who = np.flatnonzero(city.active & (rng.random(city.size) < stability.monthly_profile))
    _declare_profile(step, who, month_time(step.month, rng, len(who)), rng)


def leave(step: Step) -> Ints:
    """Members opting out this month (only those with no open loan or debt); returns them."""
    city, rng = step.city, step.rng("leaving")
    owing = np.zeros(city.size, np.bool_)
    for slot in city.loans:
        owing |= slot.active | (slot.debt > 0)
    chance = rng.random(city.size) < city.config.city.leave_rate
    who = np.flatnonzero(city.active & ~owing & chance)
    # Leave late in the month so that this month's life (already drawn) mostly precedes it;
    # anything drawn for later than the leaving moment is dropped when the month is written.
    day = rng.integers(max(step.month.days - 10, 0), step.month.days, len(who))
    at = (step.month.start_day + day) * DAY + rng.integers(20 * HOUR, 23 * HOUR, len(who))
    reason = (rng.random(len(who)) < 0.1).astype(np.int64)
    step.out.emit(
        "member_left",
        at,
        who,
        city.sources.platform,
        {"leave_reason": Codes(reason, LEAVE_REASONS)},
    )
    city.left_time[who] = at
    return who

"""Rentals (cars, bikes, power banks...) with or without deposit, and partners' feedback.

Partners waive the deposit for members in good standing (verified, no recent default),
which is what an OpenScore attestation is for. Damage follows low conscientiousness, unpaid
amounts follow stress. Honest partners give negative feedback only for a real problem; the
rogue partner also files a share of false negatives about rentals that went fine.
"""

from __future__ import annotations

import typing

import numpy as np

from openscore.ledger.catalogue import FeedbackPolarity, FeedbackTopic, RentalKind
from openscore.simulate.blocks import Codes, Const, Ints, Numbered
from openscore.simulate.calibrate import logit
from openscore.simulate.clock import DAY, HOUR
from openscore.simulate.state import Step, month_time
from openscore.simulate.traits import sigmoid

RENTAL_KINDS: tuple[str, ...] = typing.get_args(RentalKind)
POLARITIES: tuple[str, ...] = typing.get_args(FeedbackPolarity)
TOPICS: tuple[str, ...] = typing.get_args(FeedbackTopic)

#: Deposit asked per kind, in major units, and how long a rental lasts (hours, min and max).
_DEPOSIT = {
    "car": 300,
    "bike": 50,
    "power_bank": 10,
    "umbrella": 5,
    "apartment": 400,
    "equipment": 150,
    "other": 50,
}
_HOURS = {
    "car": (12, 168),
    "bike": (1, 5),
    "power_bank": (1, 24),
    "umbrella": (2, 48),
    "apartment": (48, 336),
    "equipment": (24, 72),
    "other": (2, 48),
}


def rentals(step: Step) -> None:
    """This month's rentals, how they ended, and the feedback partners gave."""
    city, rng = step.city, step.rng("rentals")
    cfg = city.config.rentals
    pop = city.population
    youth = np.select([pop.age < 35, pop.age > 65], [1.5, 0.4], 1.0)
    count = np.where(city.active, rng.poisson(cfg.monthly_rate * youth), 0)
    who = np.repeat(np.arange(city.size), count)
    n = len(who)
    weights = np.array([p.weight for p in cfg.partners])
    partner = rng.choice(len(cfg.partners), size=n, p=weights / weights.sum())
    kinds = np.array([RENTAL_KINDS.index(p.kind) for p in cfg.partners], np.int64)
    kind = kinds[partner]
    deposit_base = np.array([_DEPOSIT[k] for k in RENTAL_KINDS], np.float64) * 100
    low = np.array([_HOURS[k][0] for k in RENTAL_KINDS])[kind]
    high = np.array([_HOURS[k][1] for k in RENTAL_KINDS])[kind]
    start = month_time(step.month, rng, n)
    close = start + (rng.uniform(low, high) * HOUR).astype(np.int64)
    recent_default = step.index - city.last_default_month[who] < 12
    seasoned = step.index - pop.life_start[who] >= 3
    waive_p = sigmoid(-0.5 + 1.2 * city.verified[who] + 0.6 * seasoned - 2.5 * recent_default)
    waived = rng.random(n) < waive_p
    level = city.stress[who]
    damage = rng.random(n) < sigmoid(
        logit(cfg.damage_share) - 0.8 * pop.conscientiousness[who] + 0.3 * level
    )
    unpaid = rng.random(n) < sigmoid(logit(cfg.unpaid_share) + 0.8 * level + 1.5 * damage)
    fee = deposit_base[kind] * rng.uniform(0.2, 1.5, n)
    rental = Numbered("rent-", step.out.numbering.take("rental", n))
    source = city.sources.rentals[partner]
    money = Const(city.config.city.currency)
    step.out.emit(
        "rental_started",
        start,
        who,
        source,
        {
            "rental_id": rental,
            "rental_kind": Codes(kind, RENTAL_KINDS),
            "deposit_waived": waived,
            "deposit_amount": np.where(waived, 0, deposit_base[kind]).astype(np.int64),
            "currency": money,
        },
    )
    step.out.emit(
        "rental_closed",
        close,
        who,
        source,
        {
            "rental_id": rental,
            "rental_kind": Codes(kind, RENTAL_KINDS),
            "damage": damage,
            "unpaid_amount": np.where(unpaid, np.rint(fee), 0).astype(np.int64),
            "currency": money,
        },
    )
    _feedback(step, who, source, close, damage, unpaid, rental, rng)


def _feedback(
    step: Step,
    who: Ints,
    source: Ints,
    close: Ints,
    damage: np.ndarray,
    unpaid: np.ndarray,
    rental: Numbered,
    rng: np.random.Generator,
) -> None:
    city = step.city
    cfg = city.config.rentals
    n = len(who)
    problem = damage | unpaid
    rogue = source == city.sources.rogue
    post = rng.random(n) < np.where(problem, cfg.problem_feedback_share, cfg.feedback_share)
    false_negative = rogue & ~problem & (rng.random(n) < cfg.rogue_false_negative_share)
    negative = problem | false_negative
    topic = np.where(
        unpaid,
        TOPICS.index("payment"),
        np.where(
            negative | (rng.random(n) < 0.5), TOPICS.index("conduct"), TOPICS.index("service")
        ),
    )
    rows = np.flatnonzero(post)
    polarity = np.where(negative, POLARITIES.index("negative"), POLARITIES.index("positive"))
    step.out.emit(
        "partner_feedback",
        close[rows] + rng.integers(HOUR, 3 * DAY, len(rows)),
        who[rows],
        source[rows],
        {
            "polarity": Codes(polarity[rows], POLARITIES),
            "topic": Codes(topic[rows].astype(np.int64), TOPICS),
            "evidence_ref": Numbered(rental.prefix, rental.number[rows]),
        },
    )
    lied = rows[false_negative[rows]]
    np.add.at(step.outcomes.false_negative_feedback, who[lied], 1)
    step.tally.add("rentals", step.index, n)
    step.tally.add("rentals_damaged", step.index, int(damage.sum()))

"""Money in and out: income, purchases by merchant category, and bills paid or not."""

from __future__ import annotations

import typing

import numpy as np

from openscore.ledger.catalogue import BillKind, IncomeKind, MerchantCategory, PaymentChannel
from openscore.simulate.blocks import (
    Codes,
    Column,
    Const,
    Dates,
    Floats,
    Ints,
    Numbered,
    select_column,
)
from openscore.simulate.calibrate import logit
from openscore.simulate.condition import ILLNESS
from openscore.simulate.state import Step, day_time, month_time
from openscore.simulate.traits import (
    EMPLOYED,
    OWNER,
    RETIRED,
    SELF_EMPLOYED,
    STUDENT,
    TENANT,
    UNEMPLOYED,
    sigmoid,
)

INCOME_KINDS: tuple[str, ...] = typing.get_args(IncomeKind)
CATEGORIES: tuple[str, ...] = typing.get_args(MerchantCategory)
CHANNELS: tuple[str, ...] = typing.get_args(PaymentChannel)
BILL_KINDS: tuple[str, ...] = typing.get_args(BillKind)

#: Typical purchase per category in major units (the median before income scaling).
_TYPICAL_PURCHASE = {
    "groceries": 35.0,
    "dining": 25.0,
    "transport": 15.0,
    "travel": 250.0,
    "utilities": 60.0,
    "electronics": 250.0,
    "clothing": 55.0,
    "health": 40.0,
    "education": 120.0,
    "entertainment": 30.0,
    "gambling": 20.0,
    "charity": 15.0,
    "other": 30.0,
}
#: Heating and cooling make utility bills seasonal (January first).
_UTILITY_SEASON = np.array([1.35, 1.3, 1.15, 1.0, 0.85, 0.8, 0.9, 0.9, 0.85, 1.0, 1.15, 1.3])


def _cents(amount: Floats, floor: int = 100) -> Ints:
    return np.maximum(np.rint(amount), floor).astype(np.int64)


def income(step: Step) -> None:
    """Salaries, self-employment takings, benefits, pensions and allowances."""
    city, rng = step.city, step.rng("income")
    cfg = city.config.income
    pop = city.population
    n = city.size
    ill = city.condition.shock == ILLNESS
    vol = np.exp(0.3 * pop.volatility_score)
    status = city.status
    noise = rng.standard_normal(n)
    salary = pop.capacity * np.maximum(1.0 + cfg.salaried_volatility * vol * noise, 0.3)
    salary *= np.where(ill, cfg.sick_pay_replacement, 1.0)
    if step.month.first_day.month == 12:
        salary *= np.where(rng.random(n) < cfg.december_bonus_share, 2.0, 1.0)
    takings = pop.capacity * rng.lognormal(0.0, cfg.self_employed_volatility * vol, n)
    takings *= np.where(ill, 0.5, 1.0)
    amount = np.select(
        [status == EMPLOYED, status == SELF_EMPLOYED, status == UNEMPLOYED, status == RETIRED],
        [
            salary,
            takings,
            pop.capacity * cfg.benefits_replacement,
            pop.capacity * cfg.pension_replacement,
        ],
        pop.capacity * 0.35,
    )
    kind = np.select(
        [status == EMPLOYED, status == SELF_EMPLOYED, status == UNEMPLOYED, status == RETIRED],
        [0, 1, 2, 3],
        4,
    )
    day = np.select(
        [status == EMPLOYED, status == RETIRED, status == UNEMPLOYED],
        [pop.payday, rng.integers(1, 4, n), rng.integers(10, 15, n)],
        rng.integers(1, 29, n),
    )
    paid = city.active & ((status != STUDENT) | (rng.random(n) < 0.8))
    # The self-employed are paid in one to three instalments at random days.
    parts = np.where(status == SELF_EMPLOYED, 1 + rng.integers(0, 3, n), 1)
    who = np.repeat(np.flatnonzero(paid), parts[paid])
    share = amount[who] / parts[who] * rng.uniform(0.8, 1.2, len(who))
    days = np.where(
        status[who] == SELF_EMPLOYED, rng.integers(1, step.month.days + 1, len(who)), day[who]
    )
    days = np.minimum(days, step.month.days)
    cents = _cents(share)
    step.out.emit(
        "income_received",
        day_time(step.month.start_day + days - 1, rng, 6, 12),
        who,
        city.sources.banks[pop.bank[who]],
        {
            "amount": cents,
            "currency": Const(city.config.city.currency),
            "income_kind": Codes(kind[who], INCOME_KINDS),
        },
    )
    for g in range(len(city.config.population.groups)):
        mine = pop.group[who] == g
        step.tally.add(f"income_sum_{g}", step.index, int(cents[mine].sum()))
        step.tally.add(f"income_members_{g}", step.index, int((paid & (pop.group == g)).sum()))


def _channels(age: Ints, weights: dict[str, float], rng: np.random.Generator) -> Ints:
    base = np.array([weights.get(c, 0.0) for c in CHANNELS])
    # The young pay by phone, the old in cash.
    tilt = np.array([[1.0, 2.0, 1.0, 0.5], [1.0, 1.0, 1.0, 1.0], [1.0, 0.4, 1.2, 2.5]])
    table = base * tilt
    cumulative = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    band = np.digitize(age, [30, 65])
    channel: Ints = (rng.random(len(age))[:, None] > cumulative[band]).sum(axis=1)
    return channel.astype(np.int64)


def purchases(step: Step) -> None:
    """Card, phone, transfer and cash payments to merchants, by category."""
    city, rng = step.city, step.rng("purchases")
    cfg = city.config.spending
    pop = city.population
    median = city.config.income.median_monthly * 100.0
    wealth = pop.capacity / median
    rate = cfg.purchases_per_month * wealth**0.3 * np.where(city.condition.load > 0.5, 0.8, 1.0)
    if step.month.first_day.month == 12:
        rate = rate * 1.25
    count = np.where(city.active, rng.poisson(rate), 0)
    who = np.repeat(np.arange(city.size), count)
    weights = np.array([cfg.category_weights.get(c, 0.0) for c in CATEGORIES])
    category = rng.choice(len(CATEGORIES), size=len(who), p=weights / weights.sum())
    # Gambling rises as conscientiousness falls; illness shows as health spending.
    gamble = 0.02 * np.maximum(
        np.exp(-cfg.gambling_conscientiousness * pop.conscientiousness[who]) - 1.0, 0.0
    )
    category[rng.random(len(who)) < gamble] = CATEGORIES.index("gambling")
    ill = city.condition.shock[who] == ILLNESS
    category[ill & (rng.random(len(who)) < 0.3)] = CATEGORIES.index("health")
    typical = np.array([_TYPICAL_PURCHASE[c] for c in CATEGORIES]) * 100.0
    amount = typical[category] * wealth[who] ** 0.5 * rng.lognormal(0.0, 0.7, len(who))
    step.out.emit(
        "payment_made",
        month_time(step.month, rng, len(who)),
        who,
        city.sources.banks[pop.bank[who]],
        {
            "amount": _cents(amount, 50),
            "currency": Const(city.config.city.currency),
            "merchant_category": Codes(category.astype(np.int64), CATEGORIES),
            "channel": Codes(_channels(pop.age[who], cfg.channel_weights, rng), CHANNELS),
        },
    )


def bills(step: Step) -> None:
    """Phone, utility and rent bills, each paid on time, late, or not at all."""
    city, rng = step.city, step.rng("bills")
    cfg = city.config.bills
    pop = city.population
    start = step.month.start_day
    phone = np.flatnonzero(city.active & (pop.telco >= 0))
    utility = np.flatnonzero(city.active & ((city.housing == OWNER) | (city.housing == TENANT)))
    rent = np.flatnonzero(city.active & (city.housing == TENANT) & (city.rent > 0))
    season = _UTILITY_SEASON[step.month.first_day.month - 1]
    utility_amount = cfg.utility_amount * 100.0 * season * rng.lognormal(0.0, 0.25, len(utility))
    utility_amount *= np.where(city.housing[utility] == OWNER, 1.3, 1.0)
    sources = city.sources
    who = np.concatenate([phone, utility, rent])
    kind = np.repeat([0, 1, 2], [len(phone), len(utility), len(rent)])
    kind = np.array([BILL_KINDS.index(k) for k in ("phone", "utility", "rent")])[kind]
    issued = (
        start
        - 1
        + np.concatenate(
            [pop.phone_day[phone], pop.utility_day[utility], np.ones(len(rent), np.int64)]
        )
    )
    due = issued + np.concatenate(
        [np.full(len(phone), 14), np.full(len(utility), 21), np.full(len(rent), 4)]
    )
    amount = _cents(
        np.concatenate(
            [
                pop.phone_amount[phone] * rng.lognormal(0, 0.1, len(phone)),
                utility_amount,
                city.rent[rent],
            ]
        )
    )
    source = np.concatenate(
        [
            sources.telcos[pop.telco[phone]],
            sources.utilities[city.region[utility] % len(sources.utilities)],
            sources.landlords[city.landlord[rent]],
        ]
    )
    bill_no = step.out.numbering.take("bill", len(who))
    level = city.stress[who]
    unpaid_p = sigmoid(logit(cfg.unpaid_share) + cfg.stress_slope * level)
    late_p = sigmoid(
        logit(cfg.late_share) + cfg.stress_slope * level - 0.3 * pop.conscientiousness[who]
    )
    u = rng.random(len(who))
    unpaid = u < unpaid_p
    late = ~unpaid & (u < unpaid_p + late_p)
    window = due - issued
    on_time_day = due - np.minimum(np.floor(rng.exponential(3.0, len(who))), window)
    late_day = due + 1 + np.minimum(np.floor(rng.exponential(8.0, len(who))), 89)
    paid_day = np.where(late, late_day, on_time_day).astype(np.int64)
    common: dict[str, Column] = {
        "bill_id": Numbered("bill-", bill_no),
        "bill_kind": Codes(kind, BILL_KINDS),
        "amount": amount,
        "currency": Const(city.config.city.currency),
        "due_date": Dates(due),
    }
    step.out.emit("bill_issued", day_time(issued, rng, 5, 9), who, source, common)
    paid = ~unpaid
    step.out.emit(
        "bill_paid",
        day_time(paid_day[paid], rng, 8, 23),
        who[paid],
        source[paid],
        {
            **{name: select_column(column, paid) for name, column in common.items()},
            "paid_date": Dates(paid_day[paid]),
        },
    )
    step.tally.add("bills", step.index, len(who))
    step.tally.add("bills_late", step.index, int(late.sum()))
    step.tally.add("bills_unpaid", step.index, int(unpaid.sum()))

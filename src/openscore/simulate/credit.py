"""Loans: opening, monthly installments, arrears, default at 90 days, courts and repayment.

A member's month is one draw shared by all their loans (a member who cannot pay one lender
rarely pays another). A current loan is missed with probability ``sigmoid(alpha + stress)``
and the installment is reported missed at 30 days past due; a loan in arrears is cured
(everything owed paid at once) or rolls on, and after three months in arrears its oldest
installment is 90 days late: the lender declares default. Defaulted debts may go to court
after a delay; a judgment is satisfied when the member pays.
"""

from __future__ import annotations

import numpy as np

from openscore.simulate.blocks import Column, Const, Dates, Floats, Ints, Numbered
from openscore.simulate.calibrate import DEFAULT_AFTER, cure_probability, logit
from openscore.simulate.clock import DAY
from openscore.simulate.config import ProductSection
from openscore.simulate.state import NEVER, NOBODY, LoanSlot, Step, day_time, month_time
from openscore.simulate.traits import sigmoid


def loan_ids(number: Ints) -> Numbered:
    """Lender's loan ids ``loan-1``..."""
    return Numbered("loan-", number)


def _money(step: Step) -> Const:
    return Const(step.city.config.city.currency)


def _due_days(step: Step, slot: LoanSlot, who: Ints, number: Ints) -> Ints:
    """Due date (epoch days) of installment ``number`` of each member's loan."""
    month = slot.first_due_month[who] + number - 1
    days: Ints = step.city.first_days[month] + slot.due_day[who] - 1
    return days


def annuity(principal: Floats, monthly_rate: Floats, term: Ints) -> Ints:
    """Installment that repays ``principal`` in ``term`` months at ``monthly_rate``."""
    rate = np.where(monthly_rate > 0, monthly_rate, 1.0)
    factor = np.where(monthly_rate > 0, rate / (1.0 - (1.0 + rate) ** -term), 1.0 / term)
    return np.ceil(principal * factor).astype(np.int64)


def open_loans(step: Step, slot: LoanSlot, product: ProductSection, lenders: Ints) -> None:
    """New loans of one product for members without one and not barred by a recent default."""
    city, rng = step.city, step.rng(f"open:{product.name}")
    pop = city.population
    blocked = step.index - city.last_default_month < city.config.credit.blocked_months_after_default
    for other in city.loans:
        blocked |= other.debt > 0
    first_month = pop.life_start == step.index
    rate = np.where(first_month, product.initial_share, product.monthly_uptake)
    rate = rate * np.exp(-0.01 * (pop.age - 35))
    chosen = city.active & ~slot.active & ~blocked & (rng.random(city.size) < rate)
    who = np.flatnonzero(chosen)
    count = len(who)
    day = rng.integers(0, min(step.month.days, 27), count)
    wealth = pop.capacity[who] / (city.config.income.median_monthly * 100.0)
    principal = product.principal_median * rng.lognormal(0.0, product.principal_dispersion, count)
    principal = np.maximum(np.rint(principal * wealth**0.7 / 10.0), 1) * 1000
    low, high = product.rate_bp
    rate_bp = (rng.integers(low, max(high, low) + 1, count) // 10 * 10).astype(np.int64)
    term = np.array(product.terms, np.int64)[rng.integers(0, len(product.terms), count)]
    installment = annuity(principal, rate_bp / 10_000 / 12, term)
    number = step.out.numbering.take("loan", count)
    slot.active[who] = True
    slot.loan_no[who] = number
    slot.lender[who] = lenders[rng.integers(0, len(lenders), count)]
    slot.installment[who] = installment
    slot.term[who] = term
    slot.first_due_month[who] = step.index + 1
    slot.due_day[who] = np.minimum(day + 1, 28)
    slot.arrears[who] = 0
    slot.unpaid_from[who] = 0
    step.outcomes.loans_opened[who] += 1
    step.out.emit(
        "loan_opened",
        day_time(step.month.start_day + day, rng),
        who,
        slot.lender[who],
        {
            "loan_id": loan_ids(number),
            "principal": principal.astype(np.int64),
            "currency": _money(step),
            "term": term,
            "frequency": Const("monthly"),
            "installment_amount": installment,
            "first_due_date": Dates(_due_days(step, slot, who, np.ones(count, np.int64))),
            "interest_rate_bp": rate_bp,
        },
    )


def _installment_fields(step: Step, slot: LoanSlot, who: Ints, number: Ints) -> dict[str, Column]:
    return {
        "loan_id": loan_ids(slot.loan_no[who]),
        "installment_no": number,
        "amount": slot.installment[who],
        "currency": _money(step),
        "due_date": Dates(_due_days(step, slot, who, number)),
    }


def installments(step: Step, slot: LoanSlot, product: int, draws: dict[str, Floats]) -> None:
    """This month's installments of one product: due, paid, missed, cured or defaulted."""
    rng = step.rng(f"installments:{product}")
    emit = step.out.emit
    k = step.index - slot.first_due_month + 1
    has_due = slot.active & (k >= 1) & (k <= slot.term)
    who = np.flatnonzero(has_due)
    due = _due_days(step, slot, who, k[who])
    emit(
        "installment_due",
        day_time(due, rng, 5, 8),
        who,
        slot.lender[who],
        _installment_fields(step, slot, who, k[who]),
    )
    # Loans in arrears: everything owed is paid at once (cure) or the arrears roll on.
    owing = slot.active & (slot.arrears > 0)
    cure = owing & (draws["cure"] < draws["cure_p"])
    _cure(step, slot, np.flatnonzero(cure), k, has_due, rng)
    roll = np.flatnonzero(owing & ~cure)
    slot.arrears[roll] += 1
    _default(step, slot, roll[slot.arrears[roll] >= DEFAULT_AFTER], rng)
    again = roll[(slot.arrears[roll] < DEFAULT_AFTER) & has_due[roll]]
    _missed(step, slot, again, k[again], rng)
    # Current loans: the installment is paid (now and then a few days late) or missed.
    current = has_due & ~owing
    missed = current & (draws["miss"] < draws["miss_p"])
    paying = np.flatnonzero(current & ~missed)
    pay_due = _due_days(step, slot, paying, k[paying])
    late = draws["late"][paying] < draws["late_p"][paying]
    days_late = 1 + np.minimum(np.floor(rng.exponential(5.0, len(paying))), 28)
    early = np.minimum(np.floor(rng.exponential(2.0, len(paying))), 10)
    # Early payers pay within the month the installment falls due (it is only reported then).
    paid_day = np.maximum(pay_due + np.where(late, days_late, -early), step.month.start_day)
    paid_day = paid_day.astype(np.int64)
    fields = _installment_fields(step, slot, paying, k[paying])
    emit(
        "installment_paid",
        day_time(paid_day, rng, 8, 23),
        paying,
        slot.lender[paying],
        {**fields, "paid_date": Dates(paid_day)},
    )
    first = np.flatnonzero(missed)
    slot.arrears[first] = 1
    slot.unpaid_from[first] = k[first]
    _missed(step, slot, first, k[first], rng)
    done = slot.active & (slot.arrears == 0) & (k >= slot.term)
    slot.active[done] = False
    step.tally.add("installments_due", step.index, len(who))
    step.tally.add("installments_late", step.index, int(late.sum()))
    step.tally.add("installments_missed", step.index, int(missed.sum()))


def _missed(step: Step, slot: LoanSlot, who: Ints, number: Ints, rng: np.random.Generator) -> None:
    due = _due_days(step, slot, who, number)
    step.out.emit(
        "installment_missed",
        day_time(due + 30, rng, 6, 10),
        who,
        slot.lender[who],
        {**_installment_fields(step, slot, who, number), "days_past_due": Const(30)},
    )


def _cure(
    step: Step, slot: LoanSlot, who: Ints, k: Ints, has_due: np.ndarray, rng: np.random.Generator
) -> None:
    last = np.minimum(k[who], slot.term[who])
    oldest = _due_days(step, slot, who, slot.unpaid_from[who])
    this_due = np.where(has_due[who], _due_days(step, slot, who, last), step.month.start_day + 4)
    day = np.maximum(this_due, oldest + 31) + rng.integers(0, 15, len(who))
    count = last - slot.unpaid_from[who] + 1
    rows = np.repeat(who, count)
    number = np.repeat(slot.unpaid_from[who], count) + _ranks(count)
    paid_day = np.repeat(day, count)
    fields = _installment_fields(step, slot, rows, number)
    step.out.emit(
        "installment_paid",
        day_time(paid_day, rng, 8, 23),
        rows,
        slot.lender[rows],
        {**fields, "paid_date": Dates(paid_day)},
    )
    slot.arrears[who] = 0
    slot.unpaid_from[who] = 0
    step.tally.add("cures", step.index, len(who))


def _ranks(count: Ints) -> Ints:
    """0, 1, ... count-1 for each entry, concatenated."""
    total = int(count.sum())
    starts = np.repeat(np.cumsum(count) - count, count)
    return np.arange(total, dtype=np.int64) - starts


def _default(step: Step, slot: LoanSlot, who: Ints, rng: np.random.Generator) -> None:
    city = step.city
    oldest = _due_days(step, slot, who, slot.unpaid_from[who])
    at = day_time(oldest + 90, rng, 6, 10)
    outstanding = slot.installment[who] * (slot.term[who] - slot.unpaid_from[who] + 1)
    step.out.emit(
        "loan_defaulted",
        at,
        who,
        slot.lender[who],
        {
            "loan_id": loan_ids(slot.loan_no[who]),
            "outstanding_amount": outstanding,
            "currency": _money(step),
            "days_past_due": Const(90),
        },
    )
    # A member who already owes a defaulted debt is in default: another loan going bad is
    # part of the same default, not a new one (the obligor-level definition of default).
    already = np.zeros(len(who), np.bool_)
    for other in city.loans:
        already |= other.debt[who] > 0
    slot.active[who] = False
    slot.arrears[who] = 0
    slot.unpaid_from[who] = 0
    slot.debt[who] = outstanding
    slot.debt_lender[who] = slot.lender[who]
    slot.debt_loan[who] = slot.loan_no[who]
    slot.default_time[who] = at
    courts = city.config.courts
    sued = rng.random(len(who)) < courts.sue_share
    low, high = courts.judgment_delay_days
    delay = rng.integers(low, max(high, low) + 1, len(who)) * DAY
    slot.judgment_time[who] = np.where(sued, at + delay, NEVER)
    slot.court[who] = city.sources.courts[city.region[who] % len(city.sources.courts)]
    slot.case_no[who] = NOBODY
    month = step.month_of(at)
    new = (month < len(city.months)) & ~already
    step.outcomes.default_flags[month[new], who[new]] = True
    city.last_default_month[who] = month


def collections(step: Step, slot: LoanSlot, product: int, draws: dict[str, Floats]) -> None:
    """Defaulted debts: paid off, taken to court, and judgments satisfied."""
    city, rng = step.city, step.rng(f"collections:{product}")
    month = step.month
    owed = (slot.debt > 0) & (slot.default_time < month.start)
    repaid = owed & (draws["repay"] < draws["repay_p"])
    judged = slot.case_no >= 0
    settled = np.flatnonzero(repaid & ~judged)
    step.tally.add("debts_settled", step.index, len(settled))
    slot.debt[settled] = 0
    satisfied = np.flatnonzero(repaid & judged)
    step.out.emit(
        "court_judgment_satisfied",
        month_time(month, rng, len(satisfied)),
        satisfied,
        slot.court[satisfied],
        {"case_id": Numbered("case-", slot.case_no[satisfied])},
    )
    slot.debt[satisfied] = 0
    slot.case_no[satisfied] = NOBODY
    sue = owed & ~repaid & ~judged & (slot.judgment_time < month.end)
    who = np.flatnonzero(sue)
    case = step.out.numbering.take("case", len(who))
    slot.case_no[who] = case
    costs = 1.0 + city.config.courts.court_costs
    step.out.emit(
        "court_judgment_entered",
        slot.judgment_time[who],
        who,
        slot.court[who],
        {
            "case_id": Numbered("case-", case),
            "amount": np.ceil(slot.debt[who] * costs).astype(np.int64),
            "currency": _money(step),
        },
    )
    step.outcomes.judgments[who] += 1


def credit(step: Step) -> None:
    """Every product's installments, debts and new loans for the month."""
    city, rng = step.city, step.rng("credit")
    n = city.size
    level = city.stress
    cfg = city.config.credit
    draws = {
        "miss": rng.random(n),
        "cure": rng.random(n),
        "late": rng.random(n),
        "repay": rng.random(n),
        "miss_p": sigmoid(city.alpha + level),
        "cure_p": cure_probability(city.config, level),
        "late_p": sigmoid(
            logit(cfg.late_installment_share)
            + 0.8 * level
            - 0.4 * city.population.conscientiousness
        ),
        "repay_p": sigmoid(logit(city.config.courts.monthly_repay_rate) - 0.5 * level),
    }
    # Borrowers not in default at the month's start: the population a PD is about.
    exposed = np.zeros(n, np.bool_)
    in_default = np.zeros(n, np.bool_)
    for slot in city.loans:
        owes = slot.debt > 0
        exposed |= slot.active | (owes & (slot.default_time >= step.month.start))
        in_default |= owes & (slot.default_time < step.month.start)
    exposed &= ~in_default
    step.tally.add("exposed", step.index, int(exposed.sum()))
    step.outcomes.exposed[step.index] = exposed
    # The stock of open loans 30+ days past due, comparable with published delinquency rates.
    for slot in city.loans:
        step.tally.add("open_loans", step.index, int(slot.active.sum()))
        step.tally.add(
            "loans_in_arrears", step.index, int((slot.active & (slot.arrears > 0)).sum())
        )
    for index, (slot, product) in enumerate(zip(city.loans, cfg.products, strict=True)):
        collections(step, slot, index, draws)
        installments(step, slot, index, draws)
        open_loans(step, slot, product, city.sources.lenders[index])

"""A plain-Python reference for every feature, written from docs/features.md, not the Ibis code.

Deliberately naive: dictionaries, loops and dates. It is the oracle the engines are held to,
so it favours being obviously right over being fast.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Row = Mapping[str, Any]
Values = dict[str, Any]

CURRENCY = "EUR"
MONTH, YEAR = 30, 365
CAP = 50
LAG = dt.timedelta(days=30)
RESTART, STEPS = 0.15, 3


def _date(instant: dt.datetime) -> dt.date:
    return instant.astimezone(dt.UTC).date()


@dataclass
class _Member:
    events: list[Row] = field(default_factory=list)

    def of(self, *types: str) -> list[Row]:
        return [e for e in self.events if e["type"] in types]


def counting_events(
    events: Iterable[Row], as_of: dt.datetime, disputes: Iterable[Row] = ()
) -> list[Row]:
    """Events that count: not after as_of, never retracted, not under open dispute, no health."""
    events = list(events)
    retracted = {
        (e["source"], e["member_id"], e["retracted_event_id"])
        for e in events
        if e["type"] == "event_retracted"
    }
    disputed = {
        (d["source"], d["event_id"])
        for d in disputes
        if d["opened_at"] <= as_of and (d["resolved_at"] is None or d["resolved_at"] > as_of)
    }
    return [
        e
        for e in events
        if e["occurred_at"] <= as_of
        and e["type"] != "event_retracted"
        and (e["source"], e["member_id"], e["event_id"]) not in retracted
        and (e["source"], e["event_id"]) not in disputed
        and e.get("merchant_category") != "health"
    ]


def reference_features(
    events: Iterable[Row],
    as_of: dt.datetime,
    *,
    disputes: Iterable[Row] = (),
    scores: Iterable[Row] = (),
) -> dict[str, Values]:
    """Every current member's features as of ``as_of``, keyed by member id."""
    today = _date(as_of)
    members: dict[str, _Member] = defaultdict(_Member)
    for event in counting_events(events, as_of, disputes):
        members[event["member_id"]].events.append(event)

    def age(event: Row) -> int:
        return (today - _date(event["occurred_at"])).days

    current = {m: data for m, data in members.items() if _is_member(data)}
    opted = {m for m, data in current.items() if _opted_in(data)}
    facts = {
        m: (
            bool(data.of("identity_verified")),
            any(age(e) < YEAR for e in data.of("loan_defaulted")),
        )
        for m, data in current.items()
    }
    ties = _ties(members, opted)
    lagged = _lagged_scores(scores, as_of)
    exposure = _exposure(ties, {m: facts[m][1] for m in opted})
    group_scores = _group_scores(members, opted, lagged)
    result: dict[str, Values] = {}
    for member, data in current.items():
        values = _own_features(data, today, age)
        if member in opted:
            peers = ties.get(member, set())
            values["verified_connections"] = min(CAP, sum(facts[p][0] for p in peers))
            values["connections_default_share_12m"] = (
                sum(facts[p][1] for p in peers) / len(peers) if peers else None
            )
            values["defaulter_exposure"] = exposure.get(member)
            peer_scores = [lagged[p] for p in peers if p in lagged]
            values["connections_mean_score"] = _mean(peer_scores)
            values["groups_mean_score"] = group_scores.get(member)
        else:
            values.update(
                verified_connections=None,
                connections_default_share_12m=None,
                defaulter_exposure=None,
                connections_mean_score=None,
                groups_mean_score=None,
            )
        result[member] = values
    return result


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _is_member(data: _Member) -> bool:
    enrolled = [e["occurred_at"] for e in data.of("member_enrolled")]
    left = [e["occurred_at"] for e in data.of("member_left")]
    return bool(enrolled) and (not left or max(enrolled) > max(left))


def _opted_in(data: _Member) -> bool:
    """The latest enrolment decides; several at that instant must all say yes."""
    enrolments = data.of("member_enrolled")
    latest = max(e["occurred_at"] for e in enrolments)
    return all(bool(e["connections_opt_in"]) for e in enrolments if e["occurred_at"] == latest)


def _ties(members: Mapping[str, _Member], opted: set[str]) -> dict[str, set[str]]:
    made: dict[frozenset[str], dt.datetime] = {}
    removed: dict[frozenset[str], dt.datetime] = {}
    for member, data in members.items():
        for event in data.of("connection_made", "connection_removed"):
            peer = event["peer_member_id"]
            if peer is None or peer == member:
                continue
            book = made if event["type"] == "connection_made" else removed
            pair = frozenset((member, peer))
            book[pair] = max(book.get(pair, event["occurred_at"]), event["occurred_at"])
    ties: dict[str, set[str]] = defaultdict(set)
    for pair, at in made.items():
        if pair in removed and removed[pair] >= at:
            continue
        a, b = sorted(pair)
        if a in opted and b in opted:
            ties[a].add(b)
            ties[b].add(a)
    return ties


def _exposure(ties: Mapping[str, set[str]], defaulted: Mapping[str, bool]) -> dict[str, float]:
    """Personalised PageRank, one member at a time, by explicit walk probabilities."""
    weights = [(1 - RESTART) ** k for k in range(1, STEPS + 1)]
    result = {}
    for member, peers in ties.items():
        if not peers:
            continue
        # Probability of being at each member after k steps of the walk from ``member``.
        where = {member: 1.0}
        total = 0.0
        for weight in weights:
            step: dict[str, float] = defaultdict(float)
            for node, probability in where.items():
                for peer in ties[node]:
                    step[peer] += probability / len(ties[node])
            where = step
            total += weight * sum(p for node, p in where.items() if defaulted[node])
        result[member] = total / sum(weights)
    return result


def _lagged_scores(scores: Iterable[Row], as_of: dt.datetime) -> dict[str, float]:
    latest: dict[str, tuple[dt.datetime, float]] = {}
    for row in scores:
        if row["as_of"] > as_of - LAG:
            continue
        key = (row["as_of"], float(row["score"]))
        if row["member_id"] not in latest or key > latest[row["member_id"]]:
            latest[row["member_id"]] = key
    return {member: score for member, (_, score) in latest.items()}


def _group_scores(
    members: Mapping[str, _Member], opted: set[str], lagged: Mapping[str, float]
) -> dict[str, float]:
    belongs: dict[str, set[str]] = defaultdict(set)
    for member in opted:
        joined: dict[str, dt.datetime] = {}
        left: dict[str, dt.datetime] = {}
        for event in members[member].of("group_joined", "group_left"):
            book = joined if event["type"] == "group_joined" else left
            group = event["group_id"]
            book[group] = max(book.get(group, event["occurred_at"]), event["occurred_at"])
        for group, at in joined.items():
            if group not in left or at > left[group]:
                belongs[member].add(group)
    scored: dict[str, list[float]] = defaultdict(list)
    for member, groups in belongs.items():
        for group in groups:
            if member in lagged:
                scored[group].append(lagged[member])
    group_score = {g: sum(v) / len(v) for g, v in scored.items()}
    result = {}
    for member, groups in belongs.items():
        mean = _mean([group_score[g] for g in groups if g in group_score])
        if mean is not None:
            result[member] = mean
    return result


def _own_features(data: _Member, today: dt.date, age: Any) -> Values:
    enrolled_age = max(age(e) for e in data.of("member_enrolled"))
    periods = min(12, enrolled_age // MONTH + 1)
    values: Values = {}
    values.update(_payment_record(data, today))
    values["missed_installments_12m"] = sum(age(e) < YEAR for e in data.of("installment_missed"))
    values["defaults_5y"] = sum(age(e) < 5 * YEAR for e in data.of("loan_defaulted"))
    values.update(_judgments(data, age))
    credit = [age(e) for e in data.of("loan_opened", "bill_issued")]
    values["credit_history_months"] = max(credit) // MONTH if credit else None
    values.update(_behaviour(data, age, periods))
    values.update(_ability(data, age, periods))
    verified = bool(data.of("identity_verified"))
    values["identity_verified"] = int(verified)
    declared = [verified] + [
        bool(data.of(kind))
        for kind in ("profile_declared", "address_changed", "employment_changed")
    ]
    values["profile_completeness"] = sum(declared) / 4
    values["membership_months"] = enrolled_age // MONTH
    for kind, name in (("address_changed", "address"), ("employment_changed", "employment")):
        ages = [age(e) for e in data.of(kind)]
        values[f"{name}_tenure_months"] = min(ages) // MONTH if ages else None
        values[f"{name}_changes_24m"] = sum(a < 2 * YEAR for a in ages)
    return values


def _payment_record(data: _Member, today: dt.date) -> Values:
    due: dict[tuple[Any, ...], dt.date] = {}
    paid: dict[tuple[Any, ...], dt.date] = {}

    def key(e: Row) -> tuple[Any, ...]:
        if e["type"].startswith("bill"):
            return (e["source"], "bill", e["bill_id"])
        return (e["source"], "installment", e["loan_id"], e["installment_no"])

    for e in data.of("bill_issued", "installment_due"):
        if e["due_date"] <= today:
            due[key(e)] = min(due.get(key(e), e["due_date"]), e["due_date"])
    for e in data.of("bill_paid", "installment_paid"):
        paid[key(e)] = min(paid.get(key(e), e["paid_date"]), e["paid_date"])
    record = []
    for k, due_date in due.items():
        paid_date = paid.get(k)
        late = max(((paid_date or today) - due_date).days, 0)
        on_time = paid_date is not None and paid_date <= due_date
        record.append(((today - due_date).days, late, on_time))
    values: Values = {}
    for months, window in ((3, 91), (12, YEAR), (24, 2 * YEAR)):
        within = [r for r in record if r[0] < window]
        values[f"on_time_share_{months}m"] = (
            sum(r[2] for r in within) / len(within) if within else None
        )
    lates = [r[1] for r in record if r[0] < YEAR]
    values["worst_days_late_12m"] = max(lates) if lates else None
    missed = [r[0] - 30 for r in record if r[1] >= 30 and r[0] - 30 < 3 * YEAR]
    values["months_since_missed_payment"] = min(missed) // MONTH if missed else None
    return values


def _judgments(data: _Member, age: Any) -> Values:
    entered: dict[tuple[str, str], int] = {}
    satisfied: dict[tuple[str, str], int] = {}
    for e in data.of("court_judgment_entered"):
        k = (e["source"], e["case_id"])
        entered[k] = max(entered.get(k, age(e)), age(e))
    for e in data.of("court_judgment_satisfied"):
        k = (e["source"], e["case_id"])
        satisfied[k] = max(satisfied.get(k, age(e)), age(e))
    counting = {k: a for k, a in entered.items() if a < 6 * YEAR}
    return {
        "open_judgments": sum(k not in satisfied for k in counting),
        "satisfied_judgments_2y": sum(k in satisfied and satisfied[k] < 2 * YEAR for k in counting),
    }


def _incident(e: Row) -> bool:
    return bool(e["damage"]) or (e["unpaid_amount"] or 0) > 0


def _behaviour(data: _Member, age: Any, periods: int) -> Values:
    spending = [
        e
        for e in data.of("payment_made")
        if age(e) < YEAR and e["currency"] == CURRENCY and e["amount"] is not None
    ]
    per_period: dict[int, int] = defaultdict(int)
    for e in spending:
        per_period[age(e) // MONTH] += e["amount"]
    total = sum(per_period.values())
    volatility = None
    if per_period and total:
        mean = total / periods
        variance = max(sum(float(s) ** 2 for s in per_period.values()) / periods - mean**2, 0.0)
        volatility = math.sqrt(variance) / mean
    gambling = sum(e["amount"] for e in spending if e["merchant_category"] == "gambling")
    closed = [e for e in data.of("rental_closed") if age(e) < 2 * YEAR]
    waived = {
        (e["source"], e["rental_id"]) for e in data.of("rental_started") if e["deposit_waived"]
    }
    feedback = [e for e in data.of("partner_feedback") if age(e) < 2 * YEAR]
    return {
        "spending_volatility_12m": volatility,
        "gambling_spend_share_12m": gambling / total if total else None,
        "rentals_closed_clean_24m": sum(not _incident(e) for e in closed),
        "deposit_free_rentals_clean_24m": sum(
            not _incident(e) and (e["source"], e["rental_id"]) in waived for e in closed
        ),
        "rental_incidents_24m": sum(_incident(e) for e in closed),
        "negative_feedback_24m": sum(e["polarity"] != "positive" for e in feedback),
        "positive_feedback_24m": sum(e["polarity"] == "positive" for e in feedback),
    }


def _ability(data: _Member, age: Any, periods: int) -> Values:
    incomes = [e for e in data.of("income_received") if age(e) < YEAR]
    income = sum(e["amount"] for e in incomes if e["currency"] == CURRENCY)
    months_with_income = len({age(e) // MONTH for e in incomes})
    spend = sum(
        e["amount"] for e in data.of("payment_made") if age(e) < YEAR and e["currency"] == CURRENCY
    )
    monthly_income = income // periods
    loans: dict[tuple[str, str], dict[str, Any]] = {}
    for e in data.of("loan_opened"):
        if e["currency"] != CURRENCY:
            continue
        loan = loans.setdefault(
            (e["source"], e["loan_id"]), {"term": 0, "amount": 0, "weekly": False}
        )
        loan["term"] = max(loan["term"], e["term"])
        loan["amount"] = max(loan["amount"], e["installment_amount"])
        loan["weekly"] = loan["weekly"] or e["frequency"] == "weekly"
    paid: dict[tuple[str, str], set[int]] = defaultdict(set)
    for e in data.of("installment_paid"):
        paid[(e["source"], e["loan_id"])].add(e["installment_no"])
    defaulted = {(e["source"], e["loan_id"]) for e in data.of("loan_defaulted")}
    repaid = open_loans = outstanding = principal = burden = 0
    for k, loan in loans.items():
        if k in defaulted:
            continue
        count = len(paid[k])
        if count >= loan["term"]:
            repaid += 1
            continue
        open_loans += 1
        outstanding += (loan["term"] - count) * loan["amount"]
        principal += loan["term"] * loan["amount"]
        burden += loan["amount"] * 52 // 12 if loan["weekly"] else loan["amount"]
    return {
        "loans_repaid": repaid,
        "monthly_income_12m": monthly_income,
        "income_regularity_12m": min(months_with_income, periods) / periods,
        "debt_to_income": burden / monthly_income if monthly_income else None,
        "outstanding_balance": outstanding,
        "loan_balance_share": outstanding / principal if open_loans else None,
        "spending_to_income_12m": spend / income if income else None,
        "open_loans": open_loans,
    }

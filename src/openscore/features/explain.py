"""The evidence trail: which of a member's events stand behind each feature value.

Each feature names its evidence as a condition on the ``valid`` stage (the events that count
as of ``as_of``, after retractions, disputes and the health denylist), so the trail shows
exactly the records the definition could see, never a retracted or disputed one. For
connections features the trail is the member's own ties and groups: other members' records
are theirs, not this member's to see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa

from openscore.features import rules
from openscore.features.catalogue import FEATURES, FeatureSpec
from openscore.features.definitions import valid_events
from openscore.features.inputs import (
    DISPUTES,
    DISPUTES_SCHEMA,
    EVENTS,
    disputes_table,
    events_table,
    to_arrow,
    to_events_arrow,
)
from openscore.features.online import OnlineFeatures
from openscore.features.plan import AS_OF, check_as_of

Condition = Callable[[ibis.Table], ir.BooleanValue]


def _types(*names: str) -> Condition:
    return lambda v: v.type.isin(names)


def _recent(window: int, *names: str) -> Condition:
    return lambda v: v.type.isin(names) & (v.age < window)


def _due_within(window: int) -> Condition:
    obligations = ("bill_issued", "installment_due", "bill_paid", "installment_paid")
    return lambda v: v.type.isin(obligations) & v.due_age.between(0, window - 1)


_LOAN_EVENTS = _types("loan_opened", "installment_paid", "loan_defaulted")
_MONEY_12M = _recent(rules.WINDOW_12M, "income_received", "payment_made")

EVIDENCE: dict[str, Condition] = {
    "on_time_share_3m": _due_within(rules.WINDOW_3M),
    "on_time_share_12m": _due_within(rules.WINDOW_12M),
    "on_time_share_24m": _due_within(rules.WINDOW_24M),
    "worst_days_late_12m": _due_within(rules.WINDOW_12M),
    "months_since_missed_payment": _due_within(
        rules.EXPIRY_MISSED_PAYMENT + rules.MISSED_AFTER_DAYS
    ),
    "missed_installments_12m": _recent(rules.WINDOW_12M, "installment_missed"),
    "defaults_5y": _recent(rules.EXPIRY_DEFAULT, "loan_defaulted"),
    "open_judgments": _recent(
        rules.EXPIRY_OPEN_JUDGMENT, "court_judgment_entered", "court_judgment_satisfied"
    ),
    "satisfied_judgments_2y": _recent(
        rules.EXPIRY_OPEN_JUDGMENT, "court_judgment_entered", "court_judgment_satisfied"
    ),
    "credit_history_months": _types("loan_opened", "bill_issued"),
    "loans_repaid": _LOAN_EVENTS,
    "spending_volatility_12m": _recent(rules.WINDOW_12M, "payment_made"),
    "gambling_spend_share_12m": _recent(rules.WINDOW_12M, "payment_made"),
    "rentals_closed_clean_24m": _recent(rules.WINDOW_24M, "rental_closed"),
    "deposit_free_rentals_clean_24m": _types("rental_started", "rental_closed"),
    "rental_incidents_24m": _recent(rules.EXPIRY_INCIDENT, "rental_closed"),
    "negative_feedback_24m": _recent(rules.EXPIRY_INCIDENT, "partner_feedback"),
    "positive_feedback_24m": _recent(rules.WINDOW_24M, "partner_feedback"),
    "monthly_income_12m": _recent(rules.WINDOW_12M, "income_received"),
    "income_regularity_12m": _recent(rules.WINDOW_12M, "income_received"),
    "debt_to_income": lambda v: _LOAN_EVENTS(v) | _recent(rules.WINDOW_12M, "income_received")(v),
    "outstanding_balance": _LOAN_EVENTS,
    "loan_balance_share": _LOAN_EVENTS,
    "spending_to_income_12m": _MONEY_12M,
    "open_loans": _LOAN_EVENTS,
    "identity_verified": _types("identity_verified"),
    "profile_completeness": _types(
        "identity_verified", "profile_declared", "address_changed", "employment_changed"
    ),
    "membership_months": _types("member_enrolled", "member_left"),
    "address_tenure_months": _types("address_changed"),
    "employment_tenure_months": _types("employment_changed"),
    "address_changes_24m": _recent(rules.WINDOW_24M, "address_changed"),
    "employment_changes_24m": _recent(rules.WINDOW_24M, "employment_changed"),
    "verified_connections": _types("member_enrolled", "connection_made", "connection_removed"),
    "connections_default_share_12m": _types(
        "member_enrolled", "connection_made", "connection_removed"
    ),
    "defaulter_exposure": _types("member_enrolled", "connection_made", "connection_removed"),
    "connections_mean_score": _types("member_enrolled", "connection_made", "connection_removed"),
    "groups_mean_score": _types("member_enrolled", "group_joined", "group_left"),
}

#: Columns of an evidence row: enough to find the event in the ledger and to read it.
EVIDENCE_COLUMNS = ("occurred_at", "type", "source", "event_id")


@dataclass(frozen=True)
class FeatureExplanation:
    """One feature of one member: its value and the events behind it."""

    spec: FeatureSpec
    value: int | float | None
    evidence: list[dict[str, Any]]


def explain_member(
    member_id: str,
    events: pa.Table | Iterable[Mapping[str, Any]],
    as_of: dt.datetime,
    *,
    network: pa.Table | None = None,
    disputes: pa.Table | None = None,
    scores: pa.Table | None = None,
) -> list[FeatureExplanation] | None:
    """Every feature of the member with its evidence; None if not a member as of ``as_of``."""
    as_of = check_as_of(as_of)
    mine = to_events_arrow(events)
    online = OnlineFeatures()
    try:
        values = online.compute(
            member_id, mine, as_of, network=network, disputes=disputes, scores=scores
        )
    finally:
        online.close()
    if values is None:
        return None
    trail = _evidence(member_id, mine, as_of, to_arrow(disputes, DISPUTES_SCHEMA))
    return [FeatureExplanation(spec, values[spec.name], trail[spec.name]) for spec in FEATURES]


def _evidence(
    member_id: str, events: pa.Table, as_of: dt.datetime, disputes: pa.Table
) -> dict[str, list[dict[str, Any]]]:
    valid = valid_events(events_table(), disputes_table(), with_event_id=True)
    valid = valid.filter(valid.member_id == member_id)
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        connection.register(EVENTS, events)
        connection.register(DISPUTES, disputes)
        trail: dict[str, list[dict[str, Any]]] = {}
        for spec in FEATURES:
            chosen = valid.filter(EVIDENCE[spec.name](valid)).select(*EVIDENCE_COLUMNS)
            chosen = chosen.order_by("occurred_at", "source", "event_id")
            sql = ibis.to_sql(chosen, dialect="duckdb", pretty=False, params={AS_OF: as_of})
            trail[spec.name] = connection.sql(str(sql)).to_arrow_table().to_pylist()
        return trail
    finally:
        connection.close()

"""The feature catalogue: what each feature means to a member, and what it may be computed from.

Every feature belongs to one of the five dimensions, says in one sentence what it measures,
which way is better, and whether the member can act on it. ``inputs`` is the registry of the
event fields a feature is allowed to read (``type.field``, or ``type.field=value`` when only one
value of the field is used). :func:`check_catalogue` refuses any input that is a protected
attribute, or a value on the denylist (spending at health merchants reveals health), and runs
when the catalogue is imported, so a catalogue that breaks the rule cannot be used at all.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Literal

from openscore.ledger.catalogue import EVENT_TYPES, type_fields


class Dimension(enum.StrEnum):
    """The five dimensions a score is made of."""

    credit_history = "credit_history"
    behaviour = "behaviour"
    ability_to_pay = "ability_to_pay"
    identity_stability = "identity_stability"
    connections = "connections"


class Direction(enum.StrEnum):
    """Which way of a feature's value is better for the member."""

    higher_is_better = "higher_is_better"
    higher_is_worse = "higher_is_worse"


Kind = Literal["int64", "float64"]


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One feature: its name, dimension, member-facing sentence, direction and inputs."""

    name: str
    dimension: Dimension
    description: str
    direction: Direction
    actionable: bool
    kind: Kind
    inputs: tuple[str, ...]


#: Features whose values are amounts of money in minor units of ``rules.SCORING_CURRENCY``
#: (exact integers for every engine; members read them as money).
MONEY_FEATURES: frozenset[str] = frozenset({"monthly_income_12m", "outstanding_balance"})


class ProtectedInputError(ValueError):
    """A feature would read a protected attribute or a denied value."""


#: Words that mark a field as a protected attribute. No such field exists in the ledger today;
#: the check is what keeps one from ever becoming a feature input if it is added.
PROTECTED_WORDS: frozenset[str] = frozenset(
    {
        "sex",
        "gender",
        "ethnicity",
        "ethnic",
        "race",
        "religion",
        "religious",
        "faith",
        "marital",
        "married",
        "spouse",
        "political",
        "politics",
        "party",
        "union",
        "health",
        "medical",
        "disability",
        "illness",
        "pregnancy",
    }
)

#: Values of otherwise allowed fields that must never feed a feature: they are dropped from the
#: events before any definition sees them (``definitions.valid_events``).
DENIED_VALUES: dict[str, frozenset[str]] = {"merchant_category": frozenset({"health"})}

_INPUT = re.compile(r"^(?P<type>[a-z_]+)\.(?P<field>[a-z_]+)(=(?P<value>[a-z_]+))?$")


def check_inputs(name: str, inputs: Iterable[str]) -> None:
    """Raise :class:`ProtectedInputError` if any input of feature ``name`` is not allowed."""
    for item in inputs:
        match = _INPUT.match(item)
        if match is None:
            raise ProtectedInputError(f"{name}: input {item!r} is not 'type.field[=value]'")
        event_type, field, value = match.group("type", "field", "value")
        words = set(event_type.split("_")) | set(field.split("_")) | {value or ""}
        if hit := words & PROTECTED_WORDS:
            raise ProtectedInputError(
                f"{name}: input {item!r} is a protected attribute ({', '.join(sorted(hit))})"
            )
        denied = DENIED_VALUES.get(field)
        if denied is not None and (value is None or value in denied):
            raise ProtectedInputError(
                f"{name}: input {item!r} may only be read for one named value, never "
                f"{', '.join(sorted(denied))}"
            )
        model = EVENT_TYPES.get(event_type)
        if model is None or field not in type_fields(model):
            raise ProtectedInputError(f"{name}: input {item!r} is not a field of the ledger")


def check_catalogue(features: Iterable[FeatureSpec]) -> None:
    """Check every feature's inputs and that names are unique."""
    seen: set[str] = set()
    for spec in features:
        if spec.name in seen:
            raise ValueError(f"feature {spec.name!r} is defined twice")
        seen.add(spec.name)
        check_inputs(spec.name, spec.inputs)


_OBLIGATIONS = (
    "bill_issued.bill_id",
    "bill_issued.due_date",
    "bill_paid.bill_id",
    "bill_paid.paid_date",
    "installment_due.loan_id",
    "installment_due.installment_no",
    "installment_due.due_date",
    "installment_paid.loan_id",
    "installment_paid.installment_no",
    "installment_paid.paid_date",
)
_LOANS = (
    "loan_opened.loan_id",
    "loan_opened.currency",
    "loan_opened.term",
    "loan_opened.frequency",
    "loan_opened.installment_amount",
    "installment_paid.loan_id",
    "installment_paid.installment_no",
    "loan_defaulted.loan_id",
)
_INCOME = ("income_received.amount", "income_received.currency")
_SPENDING = (
    "payment_made.amount",
    "payment_made.currency",
    "payment_made.merchant_category=gambling",
)
_CLOSED = ("rental_closed.damage", "rental_closed.unpaid_amount")
_JUDGMENTS = ("court_judgment_entered.case_id", "court_judgment_satisfied.case_id")
_MEMBERSHIP = ("member_enrolled.connections_opt_in",)
_GRAPH = (
    *_MEMBERSHIP,
    "connection_made.peer_member_id",
    "connection_removed.peer_member_id",
)
_GROUPS = (*_MEMBERSHIP, "group_joined.group_id", "group_left.group_id")

_H, _W = Direction.higher_is_better, Direction.higher_is_worse
_C, _B, _A, _I, _N = (
    Dimension.credit_history,
    Dimension.behaviour,
    Dimension.ability_to_pay,
    Dimension.identity_stability,
    Dimension.connections,
)


def _on_time(months: int) -> FeatureSpec:
    return FeatureSpec(
        f"on_time_share_{months}m",
        _C,
        f"Share of your bills and loan installments due in the last {months} months that you "
        "paid by the due date.",
        _H,
        True,
        "float64",
        _OBLIGATIONS,
    )


FEATURES: tuple[FeatureSpec, ...] = (
    # --- credit history --------------------------------------------------------------------
    _on_time(3),
    _on_time(12),
    _on_time(24),
    FeatureSpec(
        "worst_days_late_12m",
        _C,
        "The most days late of any bill or installment due in the last 12 months "
        "(one still unpaid counts the days until today).",
        _W,
        True,
        "int64",
        _OBLIGATIONS,
    ),
    FeatureSpec(
        "months_since_missed_payment",
        _C,
        "Months since a bill or installment last went 30 days unpaid (empty if none in the "
        "last 3 years).",
        _H,
        False,
        "int64",
        _OBLIGATIONS,
    ),
    FeatureSpec(
        "missed_installments_12m",
        _C,
        "Loan installments your lenders reported as missed in the last 12 months.",
        _W,
        False,
        "int64",
        ("installment_missed.loan_id", "installment_missed.installment_no"),
    ),
    FeatureSpec(
        "defaults_5y",
        _C,
        "Loans declared in default in the last 5 years (older defaults no longer count).",
        _W,
        False,
        "int64",
        ("loan_defaulted.loan_id",),
    ),
    FeatureSpec(
        "open_judgments",
        _C,
        "Court judgments against you that are not yet satisfied (for up to 6 years).",
        _W,
        True,
        "int64",
        _JUDGMENTS,
    ),
    FeatureSpec(
        "satisfied_judgments_2y",
        _C,
        "Court judgments you satisfied in the last 2 years (they stop counting after that).",
        _W,
        False,
        "int64",
        _JUDGMENTS,
    ),
    FeatureSpec(
        "credit_history_months",
        _C,
        "Months since your first loan or bill on record.",
        _H,
        False,
        "int64",
        ("loan_opened.loan_id", "bill_issued.bill_id"),
    ),
    FeatureSpec(
        "loans_repaid",
        _C,
        "Loans you have repaid in full.",
        _H,
        True,
        "int64",
        _LOANS,
    ),
    # --- behaviour -------------------------------------------------------------------------
    FeatureSpec(
        "spending_volatility_12m",
        _B,
        "How much your monthly spending swings over the last 12 months (spread over average).",
        _W,
        True,
        "float64",
        _SPENDING,
    ),
    FeatureSpec(
        "gambling_spend_share_12m",
        _B,
        "Share of your spending in the last 12 months that went to gambling.",
        _W,
        True,
        "float64",
        _SPENDING,
    ),
    FeatureSpec(
        "rentals_closed_clean_24m",
        _B,
        "Rentals you returned in the last 24 months without damage or money owed.",
        _H,
        True,
        "int64",
        _CLOSED,
    ),
    FeatureSpec(
        "deposit_free_rentals_clean_24m",
        _B,
        "Deposit-free rentals you returned in the last 24 months without any problem.",
        _H,
        True,
        "int64",
        (*_CLOSED, "rental_started.rental_id", "rental_started.deposit_waived"),
    ),
    FeatureSpec(
        "rental_incidents_24m",
        _B,
        "Rentals returned damaged or with money owed in the last 24 months.",
        _W,
        False,
        "int64",
        _CLOSED,
    ),
    FeatureSpec(
        "negative_feedback_24m",
        _B,
        "Negative reports from partners in the last 24 months.",
        _W,
        False,
        "int64",
        ("partner_feedback.polarity",),
    ),
    FeatureSpec(
        "positive_feedback_24m",
        _B,
        "Positive reports from partners in the last 24 months.",
        _H,
        True,
        "int64",
        ("partner_feedback.polarity",),
    ),
    # --- ability to pay --------------------------------------------------------------------
    FeatureSpec(
        "monthly_income_12m",
        _A,
        "Your average monthly income over the last 12 months (or since you joined).",
        _H,
        False,
        "int64",
        _INCOME,
    ),
    FeatureSpec(
        "income_regularity_12m",
        _A,
        "Share of months in the last 12 (or since you joined) in which income arrived.",
        _H,
        False,
        "float64",
        _INCOME,
    ),
    FeatureSpec(
        "debt_to_income",
        _A,
        "Your monthly loan installments as a share of your average monthly income.",
        _W,
        True,
        "float64",
        (*_LOANS, *_INCOME),
    ),
    FeatureSpec(
        "outstanding_balance",
        _A,
        "What is left to pay on your open loans.",
        _W,
        True,
        "int64",
        _LOANS,
    ),
    FeatureSpec(
        "loan_balance_share",
        _A,
        "Share of your open loans still to be repaid.",
        _W,
        True,
        "float64",
        _LOANS,
    ),
    FeatureSpec(
        "spending_to_income_12m",
        _A,
        "Your spending as a share of your income over the last 12 months.",
        _W,
        True,
        "float64",
        (*_SPENDING, *_INCOME),
    ),
    FeatureSpec(
        "open_loans",
        _A,
        "Loans you are repaying now.",
        _W,
        True,
        "int64",
        _LOANS,
    ),
    # --- identity & stability --------------------------------------------------------------
    FeatureSpec(
        "identity_verified",
        _I,
        "Whether your identity has been verified (1) or not (0).",
        _H,
        True,
        "int64",
        ("identity_verified.verification_method",),
    ),
    FeatureSpec(
        "profile_completeness",
        _I,
        "Share of your profile you have completed: verified identity, education or "
        "occupation, address, employment.",
        _H,
        True,
        "float64",
        (
            "identity_verified.verification_method",
            "profile_declared.education",
            "profile_declared.occupation",
            "address_changed.region",
            "employment_changed.employment_status",
        ),
    ),
    FeatureSpec(
        "membership_months",
        _I,
        "Months since you joined OpenScore.",
        _H,
        False,
        "int64",
        ("member_enrolled.terms_version",),
    ),
    FeatureSpec(
        "address_tenure_months",
        _I,
        "Months at your current address.",
        _H,
        False,
        "int64",
        ("address_changed.region",),
    ),
    FeatureSpec(
        "employment_tenure_months",
        _I,
        "Months since your employment last changed.",
        _H,
        False,
        "int64",
        ("employment_changed.employment_status",),
    ),
    FeatureSpec(
        "address_changes_24m",
        _I,
        "Times you moved in the last 24 months.",
        _W,
        False,
        "int64",
        ("address_changed.region",),
    ),
    FeatureSpec(
        "employment_changes_24m",
        _I,
        "Times your employment changed in the last 24 months.",
        _W,
        False,
        "int64",
        ("employment_changed.employment_status",),
    ),
    # --- connections (opt-in; empty unless you opted in) ------------------------------------
    FeatureSpec(
        "verified_connections",
        _N,
        "Your connections with a verified identity who also opted in (counted up to 50).",
        _H,
        True,
        "int64",
        (*_GRAPH, "identity_verified.verification_method"),
    ),
    FeatureSpec(
        "connections_default_share_12m",
        _N,
        "Share of your opted-in connections with a loan default in the last 12 months.",
        _W,
        False,
        "float64",
        (*_GRAPH, "loan_defaulted.loan_id"),
    ),
    FeatureSpec(
        "defaulter_exposure",
        _N,
        "How close you are, through your network of connections, to members who defaulted in "
        "the last 12 months.",
        _W,
        False,
        "float64",
        (*_GRAPH, "loan_defaulted.loan_id"),
    ),
    FeatureSpec(
        "connections_mean_score",
        _N,
        "The average score of your opted-in connections, as of a month ago.",
        _H,
        False,
        "float64",
        _GRAPH,
    ),
    FeatureSpec(
        "groups_mean_score",
        _N,
        "The average score of the groups you belong to, as of a month ago.",
        _H,
        False,
        "float64",
        _GROUPS,
    ),
)

check_catalogue(FEATURES)


@cache
def features_by_name() -> dict[str, FeatureSpec]:
    """The catalogue keyed by feature name, in catalogue order."""
    return {spec.name: spec for spec in FEATURES}


def feature_names() -> tuple[str, ...]:
    """Every feature name, in catalogue order (the column order of feature tables)."""
    return tuple(features_by_name())


_SQL_TYPES = {"int64": "BIGINT", "float64": "DOUBLE"}


def typed_columns_sql(names: Iterable[str] | None = None) -> str:
    """The feature table's select list with explicit SQL types (of ``names``, or all).

    DuckDB sums 64-bit integers into 128-bit ones, which Ibis still calls int64; casting
    here gives every engine the same column types.
    """
    chosen = FEATURES if names is None else [features_by_name()[name] for name in names]
    casts = [f'CAST("{s.name}" AS {_SQL_TYPES[s.kind]}) AS "{s.name}"' for s in chosen]
    return ", ".join(['"member_id"', *casts])

"""Hand-written members for the edge cases every engine must get right, and their inputs."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

from openscore.features.catalogue import FeatureSpec
from openscore.ledger.wide import wide_columns

AS_OF = dt.datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
TODAY = AS_OF.date()
DAY = dt.timedelta(days=1)
_ids = itertools.count()

#: Float features are sums of floats in different orders on different engines (and in the
#: reference): they agree to this relative tolerance. Integer features agree exactly, and so
#: do ratios of two integers, which are one correctly rounded division everywhere.
REL_TOL = 1e-9
ABS_TOL = 1e-12


def same(spec: FeatureSpec, expected: Any, got: Any) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    if spec.kind == "int64":
        return isinstance(got, int) and got == expected
    return math.isclose(got, expected, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def event(
    event_type: str,
    member: str,
    at: dt.datetime,
    *,
    source: str = "platform",
    event_id: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A wide row with every column, as the lake holds it."""
    row: dict[str, Any] = dict.fromkeys(wide_columns())
    row.update(
        schema_version=1,
        event_id=event_id or f"e{next(_ids)}",
        type=event_type,
        member_id=member,
        occurred_at=at,
        source=source,
        **fields,
    )
    return row


def ago(days: int, *, seconds: int = 0) -> dt.datetime:
    """An instant ``days`` days (and ``seconds``) before the as_of instant."""
    return AS_OF - dt.timedelta(days=days, seconds=seconds)


def enrol(member: str, at: dt.datetime, *, opt_in: bool = False) -> dict[str, Any]:
    return event("member_enrolled", member, at, terms_version="1.0", connections_opt_in=opt_in)


def default(member: str, at: dt.datetime, loan: str, **kw: Any) -> dict[str, Any]:
    return event(
        "loan_defaulted",
        member,
        at,
        source="partner:bank",
        loan_id=loan,
        outstanding_amount=50_000,
        currency="EUR",
        days_past_due=95,
        **kw,
    )


def payment(member: str, at: dt.datetime, amount: int, category: str, **kw: Any) -> dict[str, Any]:
    return event(
        "payment_made",
        member,
        at,
        source="partner:shop",
        amount=amount,
        currency="EUR",
        merchant_category=category,
        channel="card",
        **kw,
    )


def tie(member: str, peer: str, at: dt.datetime, *, made: bool = True) -> dict[str, Any]:
    kind = "connection_made" if made else "connection_removed"
    extra = {"relation": "friend"} if made else {}
    return event(kind, member, at, peer_member_id=peer, **extra)


def verified(member: str, at: dt.datetime) -> dict[str, Any]:
    return event("identity_verified", member, at, verification_method="document")


def bill(member: str, ref: str, due: dt.date, paid: dt.date | None) -> list[dict[str, Any]]:
    issued = event(
        "bill_issued",
        member,
        dt.datetime.combine(due - 20 * DAY, dt.time(8), dt.UTC),
        source="partner:power",
        bill_id=ref,
        bill_kind="utility",
        amount=6_000,
        currency="EUR",
        due_date=due,
    )
    if paid is None:
        return [issued]
    return [
        issued,
        event(
            "bill_paid",
            member,
            dt.datetime.combine(paid, dt.time(12), dt.UTC),
            source="partner:power",
            bill_id=ref,
            bill_kind="utility",
            amount=6_000,
            currency="EUR",
            due_date=due,
            paid_date=paid,
        ),
    ]


def edge_case_events() -> list[dict[str, Any]]:
    """Members named after the case they exercise (all ids start with ``edge-``)."""
    rows: list[dict[str, Any]] = []
    start = ago(400)
    # Enrolled and nothing else.
    rows.append(enrol("edge-enrolled-only", start))
    # Every event retracted, the enrolment too: not a member at all.
    gone = enrol("edge-all-retracted", start)
    rows += [
        gone,
        event(
            "event_retracted",
            "edge-all-retracted",
            ago(10),
            event_id="retract-enrol",
            retracted_event_id=gone["event_id"],
            retraction_reason="sent by mistake",
        ),
    ]
    # A retracted default and a retracted payment: neither counts, even before the retraction.
    wrong = default("edge-retracted", ago(100), "loan-r")
    spent = payment("edge-retracted", ago(50), 9_999, "gambling")
    rows += [
        enrol("edge-retracted", start),
        wrong,
        spent,
        payment("edge-retracted", ago(40), 1_000, "groceries"),
        event(
            "event_retracted",
            "edge-retracted",
            ago(5),
            source="partner:bank",
            retracted_event_id=wrong["event_id"],
            retraction_reason="wrong member",
        ),
        event(
            "event_retracted",
            "edge-retracted",
            AS_OF + DAY,
            source="partner:shop",
            retracted_event_id=spent["event_id"],
            retraction_reason="wrong member",
        ),
    ]
    # Events exactly at as_of count; a microsecond later they do not.
    rows += [
        enrol("edge-at-as-of", start),
        default("edge-at-as-of", AS_OF, "loan-a"),
        default("edge-at-as-of", AS_OF + dt.timedelta(microseconds=1), "loan-b"),
        *bill("edge-at-as-of", "bill-today", TODAY, None),
        verified("edge-at-as-of", AS_OF),
    ]
    # Enrolled after as_of: not a member yet.
    rows += [enrol("edge-after-as-of", AS_OF + DAY), default("edge-after-as-of", AS_OF + DAY, "x")]
    # Expiry: a default just inside and one just outside five years; judgments likewise.
    court = {"source": "court:city", "amount": 10_000, "currency": "EUR"}
    rows += [
        enrol("edge-expired", ago(3000)),
        default("edge-expired", ago(5 * 365 - 1), "loan-in"),
        default("edge-expired", ago(5 * 365), "loan-out"),
        event("court_judgment_entered", "edge-expired", ago(6 * 365), case_id="old", **court),
        event("court_judgment_entered", "edge-expired", ago(6 * 365 - 1), case_id="open", **court),
        event(
            "court_judgment_entered", "edge-expired", ago(1000), case_id="paid-long-ago", **court
        ),
        event(
            "court_judgment_satisfied",
            "edge-expired",
            ago(730),
            source="court:city",
            case_id="paid-long-ago",
        ),
        event("court_judgment_entered", "edge-expired", ago(900), case_id="paid-lately", **court),
        event(
            "court_judgment_satisfied",
            "edge-expired",
            ago(729),
            source="court:city",
            case_id="paid-lately",
        ),
        # Missed payments stop counting three years after they became missed.
        *bill("edge-expired", "missed-old", TODAY - dt.timedelta(days=1095 + 30), None),
        *bill("edge-expired", "late-recent", TODAY - dt.timedelta(days=100), TODAY - 40 * DAY),
    ]
    # Disputes: open at as_of (set aside), resolved before (counts), opened after (counts).
    rows += [
        enrol("edge-disputed", start),
        default("edge-disputed", ago(30), "loan-open", event_id="d-open"),
        default("edge-disputed", ago(30), "loan-resolved", event_id="d-resolved"),
        default("edge-disputed", ago(30), "loan-later", event_id="d-later"),
    ]
    # Opted in, no ties.
    rows.append(enrol("edge-alone", start, opt_in=True))
    # A cycle of three opted-in members; c3 defaulted; n1 did not opt in; c1 and c4 fell out.
    for name in ("edge-c1", "edge-c2", "edge-c3"):
        rows += [enrol(name, start, opt_in=True), verified(name, start)]
    rows += [enrol("edge-n1", start), verified("edge-n1", start)]
    rows += [enrol("edge-c4", start, opt_in=True)]
    rows += [
        tie("edge-c1", "edge-c2", ago(300)),
        tie("edge-c2", "edge-c1", ago(300)),
        tie("edge-c2", "edge-c3", ago(200)),
        tie("edge-c3", "edge-c1", ago(100)),
        tie("edge-c1", "edge-n1", ago(100)),
        tie("edge-c1", "edge-c4", ago(100)),
        tie("edge-c4", "edge-c1", ago(50), made=False),
        default("edge-c3", ago(60), "loan-c3"),
    ]
    for name in ("edge-c1", "edge-c2"):
        rows.append(event("group_joined", name, ago(90), group_id="club-x", group_kind="club"))
    rows.append(event("group_joined", "edge-c3", ago(90), group_id="club-y", group_kind="club"))
    rows.append(event("group_left", "edge-c3", ago(10), group_id="club-y"))
    # Health spending never counts: this member is the same as edge-retracted's clean twin.
    rows += [
        enrol("edge-health", start),
        payment("edge-health", ago(40), 1_000, "groceries"),
        payment("edge-health", ago(41), 50_000, "health"),
    ]
    # Left the platform: no features.
    rows += [
        enrol("edge-left", start),
        event("member_left", "edge-left", ago(3), leave_reason="opt_out"),
    ]
    return rows


def edge_case_disputes() -> list[dict[str, Any]]:
    return [
        {"source": "partner:bank", "event_id": "d-open", "opened_at": ago(20), "resolved_at": None},
        {
            "source": "partner:bank",
            "event_id": "d-resolved",
            "opened_at": ago(20),
            "resolved_at": ago(2),
        },
        {
            "source": "partner:bank",
            "event_id": "d-later",
            "opened_at": AS_OF + DAY,
            "resolved_at": None,
        },
    ]


def edge_case_scores() -> list[dict[str, Any]]:
    """Scores for the cycle; the newest ones are too recent to be used (lag of 30 days)."""
    rows = []
    for name, score in (("edge-c1", 700.0), ("edge-c2", 600.0), ("edge-c3", 400.0)):
        rows.append({"member_id": name, "as_of": ago(60), "score": score})
        rows.append({"member_id": name, "as_of": ago(10), "score": 950.0})
    return rows


def exposure_of_c1() -> float:
    """Worked by hand: a triangle in which only c3 defaulted, walks of 1, 2 and 3 steps."""
    weights = [0.85, 0.85**2, 0.85**3]
    at_step = [0.5, 0.25, 0.375]  # share of walks from c1 ending on c3 after k steps
    return sum(w * y for w, y in zip(weights, at_step, strict=True)) / sum(weights)


#: What the edge cases must give, feature by feature (members absent here have no row).
EXPECTED: dict[str, dict[str, Any]] = {
    "edge-enrolled-only": {
        "defaults_5y": 0,
        "on_time_share_12m": None,
        "monthly_income_12m": 0,
        "income_regularity_12m": 0.0,
        "profile_completeness": 0.0,
        "membership_months": 13,
        "verified_connections": None,
    },
    "edge-retracted": {"defaults_5y": 0, "gambling_spend_share_12m": 0.0},
    "edge-at-as-of": {
        "defaults_5y": 1,
        "identity_verified": 1,
        "on_time_share_3m": 0.0,
        "worst_days_late_12m": 0,
    },
    "edge-expired": {
        "defaults_5y": 1,
        "open_judgments": 1,
        "satisfied_judgments_2y": 1,
        "months_since_missed_payment": 2,
        "worst_days_late_12m": 60,
    },
    "edge-disputed": {"defaults_5y": 2},
    "edge-alone": {
        "verified_connections": 0,
        "connections_default_share_12m": None,
        "defaulter_exposure": None,
    },
    "edge-c1": {
        "verified_connections": 2,
        "connections_default_share_12m": 0.5,
        "defaulter_exposure": exposure_of_c1(),
        "connections_mean_score": 500.0,
        "groups_mean_score": 650.0,
    },
    "edge-c3": {"connections_mean_score": 650.0, "groups_mean_score": None},
    # One payment in one of twelve 30-day periods: a coefficient of variation of sqrt(11).
    "edge-health": {"gambling_spend_share_12m": 0.0, "spending_volatility_12m": math.sqrt(11)},
    "edge-n1": {"verified_connections": None},
    "edge-c4": {"verified_connections": 0},
}

#: Members that must have no row at all.
NOT_MEMBERS = ("edge-all-retracted", "edge-after-as-of", "edge-left", "edge-nobody")

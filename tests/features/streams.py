"""Hypothesis strategies: random event streams of a few members, with disputes and scores.

Streams are small but dense in the things that go wrong: keys that collide (the same loan,
bill, case or rental id reported twice), instants exactly at and just after ``as_of``, ages
on window and expiry boundaries, retractions, disputes, currencies other than EUR, health
spending, ties that are made and removed (also at the same instant), and groups.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from tests.features.cases import AS_OF, event

BOUNDARIES = (0, 1, 29, 30, 90, 91, 364, 365, 729, 730, 1094, 1095, 1824, 1825, 2189, 2190)
SOURCES = ("partner:a", "partner:b")


@st.composite
def instants(draw: st.DrawFn) -> dt.datetime:
    """Mostly before as_of, often on a window boundary, sometimes at or just after it."""
    kind = draw(st.sampled_from(("boundary", "any", "at", "after")))
    if kind == "at":
        return AS_OF
    if kind == "after":
        return AS_OF + dt.timedelta(microseconds=draw(st.integers(1, 10**8)))
    days = draw(st.sampled_from(BOUNDARIES) if kind == "boundary" else st.integers(0, 2300))
    seconds = draw(st.integers(0, 86_399))
    return AS_OF - dt.timedelta(days=days, seconds=seconds)


def _date(draw: st.DrawFn, near: dt.datetime) -> dt.date:
    return near.date() - dt.timedelta(days=draw(st.integers(-40, 400)))


@st.composite
def member_event(draw: st.DrawFn, member: str, others: list[str]) -> dict[str, Any]:
    at = draw(instants())
    source = draw(st.sampled_from(SOURCES))
    money = {
        "amount": draw(st.integers(1, 500_000)),
        "currency": draw(st.sampled_from(("EUR", "EUR", "EUR", "USD"))),
    }
    loan = draw(st.sampled_from(("L1", "L2")))
    number = draw(st.integers(1, 3))
    due = _date(draw, at)
    paid = min(due + dt.timedelta(days=draw(st.integers(-5, 60))), at.date())
    choices: dict[str, dict[str, Any]] = {
        "loan_opened": {
            "loan_id": loan,
            "principal": 100_000,
            "currency": money["currency"],
            "term": draw(st.integers(1, 4)),
            "frequency": draw(st.sampled_from(("weekly", "monthly"))),
            "installment_amount": draw(st.integers(1, 90_000)),
            "first_due_date": due,
        },
        "installment_due": {"loan_id": loan, "installment_no": number, "due_date": due, **money},
        "installment_paid": {
            "loan_id": loan,
            "installment_no": number,
            "due_date": due,
            "paid_date": paid,
            **money,
        },
        "installment_missed": {
            "loan_id": loan,
            "installment_no": number,
            "due_date": due,
            "days_past_due": 30,
            **money,
        },
        "loan_defaulted": {
            "loan_id": loan,
            "outstanding_amount": 1_000,
            "currency": "EUR",
            "days_past_due": 95,
        },
        "bill_issued": {"bill_id": loan, "bill_kind": "phone", "due_date": due, **money},
        "bill_paid": {
            "bill_id": loan,
            "bill_kind": "phone",
            "due_date": due,
            "paid_date": paid,
            **money,
        },
        "income_received": {"income_kind": "salary", **money},
        "payment_made": {
            "merchant_category": draw(st.sampled_from(("groceries", "gambling", "health"))),
            "channel": "card",
            **money,
        },
        "rental_started": {
            "rental_id": loan,
            "rental_kind": "bike",
            "deposit_waived": draw(st.booleans()),
            "deposit_amount": 0,
            "currency": "EUR",
        },
        "rental_closed": {
            "rental_id": loan,
            "rental_kind": "bike",
            "damage": draw(st.booleans()),
            "unpaid_amount": draw(st.sampled_from((0, 0, 500))),
            "currency": "EUR",
        },
        "partner_feedback": {
            "polarity": draw(st.sampled_from(("positive", "negative"))),
            "topic": "payment",
            "evidence_ref": "x",
        },
        "court_judgment_entered": {"case_id": loan, **money},
        "court_judgment_satisfied": {"case_id": loan},
        "identity_verified": {"verification_method": "document"},
        "profile_declared": {"education": "secondary"},
        "address_changed": {"region": "R1", "housing": "tenant"},
        "employment_changed": {"employment_status": "employed"},
        "member_enrolled": {"terms_version": "1.0", "connections_opt_in": draw(st.booleans())},
        "member_left": {"leave_reason": "opt_out"},
        "group_joined": {"group_id": loan, "group_kind": "club"},
        "group_left": {"group_id": loan},
    }
    if others:
        peer = draw(st.sampled_from(others))
        choices["connection_made"] = {"peer_member_id": peer, "relation": "friend"}
        choices["connection_removed"] = {"peer_member_id": peer}
    kind = draw(st.sampled_from(sorted(choices)))
    return event(kind, member, at, source=source, **choices[kind])


@st.composite
def streams(draw: st.DrawFn, prefix: str = "h") -> dict[str, Any]:
    """Events of 1-4 members, with retractions, disputes and scores."""
    members = [f"{prefix}{i}" for i in range(draw(st.integers(1, 4)))]
    events: list[dict[str, Any]] = []
    for member in members:
        others = [m for m in members if m != member]
        enrolled = AS_OF - dt.timedelta(days=draw(st.integers(-2, 2400)))
        opt_in = draw(st.booleans())
        events.append(
            event(
                "member_enrolled",
                member,
                enrolled,
                terms_version="1.0",
                connections_opt_in=opt_in,
            )
        )
        events += draw(st.lists(member_event(member, others), max_size=25))
    for target in draw(st.lists(st.sampled_from(events), max_size=3)):
        events.append(
            event(
                "event_retracted",
                target["member_id"],
                draw(instants()),
                source=target["source"],
                retracted_event_id=target["event_id"],
                retraction_reason="mistake",
            )
        )
    disputes = [
        {
            "source": target["source"],
            "event_id": target["event_id"],
            "opened_at": draw(instants()),
            "resolved_at": draw(st.none() | instants()),
        }
        for target in draw(st.lists(st.sampled_from(events), max_size=3))
    ]
    scores = [
        {
            "member_id": draw(st.sampled_from(members)),
            "as_of": AS_OF - dt.timedelta(days=draw(st.integers(0, 90))),
            "score": float(draw(st.integers(350, 950))),
        }
        for _ in range(draw(st.integers(0, 6)))
    ]
    return {"events": events, "disputes": disputes, "scores": scores}


@st.composite
def batches(draw: st.DrawFn, size: int) -> dict[str, Any]:
    """Several independent streams in one input (for engines with a high fixed cost)."""
    parts = [draw(streams(prefix=f"b{i}-")) for i in range(size)]
    return {key: [row for part in parts for row in part[key]] for key in parts[0]}

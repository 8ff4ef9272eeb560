"""A deterministic stream of valid events of every type, for smoke runs, tests and benchmarks.

This is load, not a city: members are independent and their lives are simple. The population
simulator (``openscore.simulate``) is what makes realistic data; this stream exists so the
ledger can be exercised at any size with nothing else installed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from openscore.ledger.wide import wide_columns

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
CURRENCY = "EUR"


def _row(
    event_type: str, event_id: str, member: str, at: dt.datetime, source: str, **fields: Any
) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(wide_columns())
    row.update(
        schema_version=1,
        event_id=event_id,
        type=event_type,
        member_id=member,
        occurred_at=at,
        source=source,
        **fields,
    )
    return row


def sample_events(
    members: int, *, months: int = 12, seed: int = 0, start: dt.datetime = START
) -> Iterator[dict[str, Any]]:
    """Wide rows for ``members`` members over ``months`` months (about 16 events a member-month).

    Every member is enrolled before anything else is said about them; connections only link a
    member to members enrolled before; retractions follow the event they withdraw.
    """
    rng = random.Random(seed)
    for number in range(members):
        yield from _member_life(rng, number, months, start)


def _member_life(
    rng: random.Random, number: int, months: int, start: dt.datetime
) -> Iterator[dict[str, Any]]:
    member = f"m{number:08d}"
    at = start + dt.timedelta(minutes=number % 1440)
    bank = f"partner:bank-{number % 3}"
    yield _row(
        "member_enrolled",
        f"enrol-{member}",
        member,
        at,
        "platform",
        terms_version="1.0",
        connections_opt_in=rng.random() < 0.5,
    )
    yield _row(
        "identity_verified", f"idv-{member}", member, at, "platform", verification_method="document"
    )
    yield _row(
        "profile_declared",
        f"profile-{member}",
        member,
        at,
        "member",
        education="bachelor",
        occupation="nurse",
    )
    yield _row(
        "address_changed",
        f"addr-{member}",
        member,
        at,
        "member",
        region=f"district-{number % 17}",
        housing="tenant",
    )
    yield _row(
        "employment_changed",
        f"job-{member}",
        member,
        at,
        "member",
        employment_status="employed",
        employer_id=f"employer-{number % 101}",
    )
    if number > 0:
        peer = f"m{rng.randrange(number):08d}"
        yield _row(
            "connection_made",
            f"conn-{member}",
            member,
            at,
            "platform",
            peer_member_id=peer,
            relation="friend",
        )
    yield _row(
        "group_joined",
        f"group-{member}",
        member,
        at,
        "platform",
        group_id=f"club-{number % 50}",
        group_kind="club",
    )
    loan = f"loan-{member}"
    first_due = (at + dt.timedelta(days=30)).date()
    installment = 10_000 + rng.randrange(5_000)
    yield _row(
        "loan_opened",
        loan,
        member,
        at,
        bank,
        loan_id=loan,
        principal=installment * months,
        currency=CURRENCY,
        term=months,
        frequency="monthly",
        installment_amount=installment,
        first_due_date=first_due,
        interest_rate_bp=900,
    )
    for month in range(months):
        base = at + dt.timedelta(days=30 * month)
        key = f"{member}-{month:03d}"
        yield _row(
            "income_received",
            f"inc-{key}",
            member,
            base + dt.timedelta(days=1),
            bank,
            amount=250_000 + rng.randrange(50_000),
            currency=CURRENCY,
            income_kind="salary",
        )
        for spend in range(4):
            yield _row(
                "payment_made",
                f"pay-{key}-{spend}",
                member,
                base + dt.timedelta(days=2 + spend),
                "partner:shop",
                amount=500 + rng.randrange(20_000),
                currency=CURRENCY,
                merchant_category=rng.choice(("groceries", "dining", "transport", "clothing")),
                channel="card",
            )
        due = (base + dt.timedelta(days=20)).date()
        yield _row(
            "bill_issued",
            f"bill-{key}",
            member,
            base + dt.timedelta(days=5),
            "partner:power",
            bill_id=f"b-{key}",
            bill_kind="utility",
            amount=6_000,
            currency=CURRENCY,
            due_date=due,
        )
        late = rng.random() < 0.1
        paid = due + dt.timedelta(days=9 if late else -2)
        yield _row(
            "bill_paid",
            f"billpaid-{key}",
            member,
            dt.datetime.combine(paid, dt.time(12), dt.UTC),
            "partner:power",
            bill_id=f"b-{key}",
            bill_kind="utility",
            amount=6_000,
            currency=CURRENCY,
            due_date=due,
            paid_date=paid,
        )
        installment_due = first_due + dt.timedelta(days=30 * month)
        yield _row(
            "installment_due",
            f"due-{key}",
            member,
            dt.datetime.combine(installment_due, dt.time(6), dt.UTC),
            bank,
            loan_id=loan,
            installment_no=month + 1,
            amount=installment,
            currency=CURRENCY,
            due_date=installment_due,
        )
        if rng.random() < 0.05:
            yield _row(
                "installment_missed",
                f"miss-{key}",
                member,
                dt.datetime.combine(installment_due + dt.timedelta(days=30), dt.time(6), dt.UTC),
                bank,
                loan_id=loan,
                installment_no=month + 1,
                amount=installment,
                currency=CURRENCY,
                due_date=installment_due,
                days_past_due=30,
            )
        else:
            yield _row(
                "installment_paid",
                f"paid-{key}",
                member,
                dt.datetime.combine(installment_due, dt.time(9), dt.UTC),
                bank,
                loan_id=loan,
                installment_no=month + 1,
                amount=installment,
                currency=CURRENCY,
                due_date=installment_due,
                paid_date=installment_due,
            )
        rental = f"rent-{key}"
        yield _row(
            "rental_started",
            rental,
            member,
            base + dt.timedelta(days=10),
            "partner:bikes",
            rental_id=rental,
            rental_kind="bike",
            deposit_waived=True,
            deposit_amount=0,
            currency=CURRENCY,
        )
        yield _row(
            "rental_closed",
            f"{rental}-closed",
            member,
            base + dt.timedelta(days=11),
            "partner:bikes",
            rental_id=rental,
            rental_kind="bike",
            damage=rng.random() < 0.02,
            unpaid_amount=0,
            currency=CURRENCY,
        )
        yield _row(
            "partner_feedback",
            f"fb-{key}",
            member,
            base + dt.timedelta(days=12),
            "partner:bikes",
            polarity="positive",
            topic="conduct",
            evidence_ref=f"ticket-{key}",
        )
    if rng.random() < 0.05:
        case = f"case-{member}"
        judged = at + dt.timedelta(days=30 * months - 20)
        yield _row(
            "loan_defaulted",
            f"default-{member}",
            member,
            judged - dt.timedelta(days=10),
            bank,
            loan_id=loan,
            outstanding_amount=installment * 3,
            currency=CURRENCY,
            days_past_due=95,
        )
        yield _row(
            "court_judgment_entered",
            case,
            member,
            judged,
            "court:city",
            case_id=case,
            amount=installment * 3,
            currency=CURRENCY,
        )
        yield _row(
            "court_judgment_satisfied",
            f"{case}-satisfied",
            member,
            judged + dt.timedelta(days=5),
            "court:city",
            case_id=case,
        )
    if number > 0 and rng.random() < 0.02:
        yield _row(
            "connection_removed",
            f"unconn-{member}",
            member,
            at + dt.timedelta(days=40),
            "platform",
            peer_member_id=f"m{number - 1:08d}",
        )
    if rng.random() < 0.01:
        yield _row(
            "event_retracted",
            f"retract-{member}",
            member,
            at + dt.timedelta(days=45),
            "partner:shop",
            retracted_event_id=f"pay-{member}-000-0",
            retraction_reason="reported for the wrong member",
        )
    if rng.random() < 0.01:
        yield _row(
            "group_left",
            f"leave-{member}",
            member,
            at + dt.timedelta(days=50),
            "platform",
            group_id=f"club-{number % 50}",
        )
    if rng.random() < 0.005:
        yield _row(
            "member_left",
            f"left-{member}",
            member,
            at + dt.timedelta(days=30 * months),
            "platform",
            leave_reason="opt_out",
        )

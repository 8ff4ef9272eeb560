"""Feature definitions, written once as Ibis expressions over events, disputes and scores.

The rules every definition relies on are applied once, in :func:`valid_events`:

- point in time: only events with ``occurred_at <= as_of`` exist;
- a retracted event never counts, whenever it was retracted (a retraction says the event was a
  mistake, not that it stopped being true); the retraction names an event of the same source
  about the same member;
- an event under a dispute that is open at ``as_of`` is set aside while the dispute is open;
- payments at health merchants are dropped (spending there reveals health);
- days are whole dates in UTC and ages are day differences between dates, never instants
  divided by 86,400; money stays integer minor units in the scoring currency.

Everything after works on *ages*: ``age`` is the number of days from the event's date to the
``as_of`` date, so "in the last 12 months" is ``age < 365`` and "months since" is ``age // 30``.
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import ibis.expr.types as ir

from openscore.features import rules
from openscore.features.catalogue import DENIED_VALUES, FEATURES, Dimension, features_by_name
from openscore.features.graph import connection_features
from openscore.features.inputs import disputes_table, events_table, scores_table
from openscore.features.plan import AS_OF, Gather, Plan, join_parts

AS_OF_DAY = AS_OF.date()


def _days_before_as_of(date: ir.DateValue) -> ir.IntegerValue:
    return AS_OF_DAY.delta(date, unit="day")


def valid_events(
    events: ibis.Table, disputes: ibis.Table, *, with_event_id: bool = False
) -> ibis.Table:
    """The events that may count as of ``as_of``, with ages in days and derived flags.

    ``event_id`` is kept only on request (for the evidence trail): no feature needs it, and
    carrying a distinct string per event through the batch costs more than any feature.
    """
    seen = events.filter(events.occurred_at <= AS_OF)
    retracted = events.filter(events.type == "event_retracted").select(
        r_source=events.source, r_member=events.member_id, r_event=events.retracted_event_id
    )
    seen = seen.anti_join(
        retracted,
        [
            seen.source == retracted.r_source,
            seen.member_id == retracted.r_member,
            seen.event_id == retracted.r_event,
        ],
    )
    open_disputes = disputes.filter(
        (disputes.opened_at <= AS_OF)
        & (disputes.resolved_at.isnull() | (disputes.resolved_at > AS_OF))
    ).select(d_source=disputes.source, d_event=disputes.event_id)
    seen = seen.anti_join(
        open_disputes,
        [seen.source == open_disputes.d_source, seen.event_id == open_disputes.d_event],
    )
    for column, values in DENIED_VALUES.items():
        seen = seen.filter(seen[column].isnull() | ~seen[column].isin(tuple(values)))
    seen = seen.filter(seen.type != "event_retracted")
    in_currency = seen.currency == rules.SCORING_CURRENCY
    ids = ("event_id",) if with_event_id else ()
    return seen.select(
        "member_id",
        "type",
        "source",
        *ids,
        "occurred_at",
        age=_days_before_as_of(seen.occurred_at.date()),
        due_age=_days_before_as_of(seen.due_date),
        paid_age=_days_before_as_of(seen.paid_date),
        amount=ibis.ifelse(in_currency, seen.amount, ibis.null("int64")),
        gambling=seen.merchant_category == "gambling",
        opt_in=seen.connections_opt_in,
        ref=_obligation_ref(seen),
        loan_id=seen.loan_id,
        installment_no=seen.installment_no,
        term=seen.term,
        weekly=seen.frequency == "weekly",
        installment_amount=ibis.ifelse(in_currency, seen.installment_amount, ibis.null("int64")),
        rental_id=seen.rental_id,
        waived=seen.deposit_waived,
        incident=seen.damage | (seen.unpaid_amount > 0),
        positive=seen.polarity == "positive",
        case_id=seen.case_id,
        peer_member_id=seen.peer_member_id,
        group_id=seen.group_id,
    )


def _obligation_ref(events: ibis.Table) -> ir.StringValue:
    """One key for a bill (``b:<bill>``) or an installment (``i:<loan>#<number>``)."""
    return ibis.coalesce(
        "b:" + events.bill_id,
        "i:" + events.loan_id + "#" + events.installment_no.cast("string"),
    )


def _count(table: ibis.Table, condition: ir.BooleanValue) -> ir.IntegerScalar:
    return table.member_id.count(where=condition)


def _is(table: ibis.Table, *types: str) -> ir.BooleanValue:
    return table.type.isin(types)


def member_spine(valid: ibis.Table) -> ibis.Table:
    """Members as of ``as_of`` (enrolled, not left since), with the facts others depend on."""
    enrolled = valid.type == "member_enrolled"
    at = valid.occurred_at
    spine = valid.group_by("member_id").agg(
        enrolled_age=valid.age.max(where=enrolled),
        last_enrolled=at.max(where=enrolled),
        last_left=at.max(where=valid.type == "member_left"),
        opt_in_at=at.max(where=enrolled & valid.opt_in),
        opt_out_at=at.max(where=enrolled & ~valid.opt_in.fill_null(False)),
        verified=_count(valid, valid.type == "identity_verified") > 0,
        recent_defaults=_count(
            valid, (valid.type == "loan_defaulted") & (valid.age < rules.WINDOW_12M)
        ),
    )
    spine = spine.filter(
        spine.last_enrolled.notnull()
        & (spine.last_left.isnull() | (spine.last_enrolled > spine.last_left))
    )
    # The latest enrolment says whether the member opted in; a tie at one instant is "no".
    opted_in = spine.opt_in_at.notnull() & (
        spine.opt_out_at.isnull() | (spine.opt_in_at > spine.opt_out_at)
    )
    periods = ibis.least(rules.PERIODS_12M, spine.enrolled_age // rules.MONTH_DAYS + 1)
    return spine.select(
        "member_id",
        "enrolled_age",
        "verified",
        opted_in=opted_in,
        defaulted_12m=spine.recent_defaults > 0,
        periods=periods.cast("int64"),
    )


def simple_counts(valid: ibis.Table) -> ibis.Table:
    """Features that are counts, firsts and lasts of single events, in one pass."""
    v = valid
    recent = v.age < rules.WINDOW_24M
    incident = v.incident.fill_null(False)
    closed = v.type == "rental_closed"
    address, employment = v.type == "address_changed", v.type == "employment_changed"
    return v.group_by("member_id").agg(
        missed_installments_12m=_count(
            v, (v.type == "installment_missed") & (v.age < rules.WINDOW_12M)
        ),
        defaults_5y=_count(v, (v.type == "loan_defaulted") & (v.age < rules.EXPIRY_DEFAULT)),
        credit_history_age=v.age.max(where=_is(v, "loan_opened", "bill_issued")),
        rentals_closed_clean_24m=_count(v, closed & ~incident & recent),
        rental_incidents_24m=_count(v, closed & incident & (v.age < rules.EXPIRY_INCIDENT)),
        negative_feedback_24m=_count(
            v,
            (v.type == "partner_feedback") & ~v.positive & (v.age < rules.EXPIRY_INCIDENT),
        ),
        positive_feedback_24m=_count(v, (v.type == "partner_feedback") & v.positive & recent),
        has_profile=_count(v, v.type == "profile_declared") > 0,
        has_address=_count(v, address) > 0,
        has_employment=_count(v, employment) > 0,
        address_age=v.age.min(where=address),
        employment_age=v.age.min(where=employment),
        address_changes_24m=_count(v, address & recent),
        employment_changes_24m=_count(v, employment & recent),
    )


def money_flows(valid: ibis.Table) -> ibis.Table:
    """Income and spending over the last 12 months, in minor units of the scoring currency."""
    v = valid.filter(_is(valid, "income_received", "payment_made") & (valid.age < rules.WINDOW_12M))
    income, spend = v.type == "income_received", v.type == "payment_made"
    return v.group_by("member_id").agg(
        income_12m=v.amount.sum(where=income),
        income_periods=(v.age // rules.MONTH_DAYS).nunique(where=income),
        spend_12m=v.amount.sum(where=spend),
        gambling_12m=v.amount.sum(where=spend & v.gambling),
    )


def spending_spread(valid: ibis.Table) -> ibis.Table:
    """Sum and sum of squares of spending per 30-day period, for the volatility."""
    v = valid.filter(
        (valid.type == "payment_made") & (valid.age < rules.WINDOW_12M) & valid.amount.notnull()
    )
    per_period = v.group_by("member_id", period=v.age // rules.MONTH_DAYS).agg(spent=v.amount.sum())
    # Squares of money are taken in floating point: as integers they could overflow int64.
    spent = per_period.spent.cast("float64")
    return per_period.group_by("member_id").agg(
        spend_sum=spent.sum(), spend_squares=(spent * spent).sum()
    )


def obligations(valid: ibis.Table) -> ibis.Table:
    """Payment record per member from every bill and installment due by ``as_of``."""
    v = valid.filter(_is(valid, "bill_issued", "installment_due", "bill_paid", "installment_paid"))
    is_due = _is(v, "bill_issued", "installment_due") & (v.due_age >= 0)
    # A payment settles the bill or installment with its source and key, never an unnamed one.
    is_paid = _is(v, "bill_paid", "installment_paid") & v.ref.notnull()
    # One pass over each obligation's records (not a join of dues to payments: online, where
    # DuckDB's cost is setting up operators, every join and group-by saved counts).
    both = v.group_by("member_id", "source", "ref").agg(
        due_age=v.due_age.max(where=is_due), paid_age=v.paid_age.max(where=is_paid)
    )
    both = both.filter(both.due_age.notnull())
    # Days late: paid date minus due date, or today minus due date while unpaid.
    late = ibis.greatest(both.due_age - both.paid_age.fill_null(0), 0)
    on_time = both.paid_age.notnull() & (both.paid_age >= both.due_age)
    missed_age = both.due_age - rules.MISSED_AFTER_DAYS
    missed = (late >= rules.MISSED_AFTER_DAYS) & (missed_age < rules.EXPIRY_MISSED_PAYMENT)

    def share(window: int) -> ir.FloatingScalar:
        within = both.due_age < window
        return _ratio(_count(both, within & on_time), _count(both, within))

    return both.group_by("member_id").agg(
        on_time_share_3m=share(rules.WINDOW_3M),
        on_time_share_12m=share(rules.WINDOW_12M),
        on_time_share_24m=share(rules.WINDOW_24M),
        worst_days_late_12m=late.max(where=both.due_age < rules.WINDOW_12M),
        missed_age=missed_age.min(where=missed),
    )


def loans(valid: ibis.Table) -> ibis.Table:
    """Open and repaid loans, remaining balances and the monthly installment burden."""
    v = valid.filter(_is(valid, "loan_opened", "installment_paid", "loan_defaulted"))
    opened = (v.type == "loan_opened") & v.installment_amount.notnull()
    # Payments and defaults belong to the loan with their source and id, never an unnamed one.
    named = v.loan_id.notnull()
    per_loan = v.group_by("member_id", "source", "loan_id").agg(
        term=v.term.max(where=opened),
        installment=v.installment_amount.max(where=opened),
        weekly=v.weekly.fill_null(False).cast("int64").max(where=opened) > 0,
        paid=v.installment_no.nunique(where=(v.type == "installment_paid") & named),
        defaulted=_count(v, (v.type == "loan_defaulted") & named) > 0,
        is_loan=_count(v, opened) > 0,
    )
    per_loan = per_loan.filter(per_loan.is_loan)
    paid_count = per_loan.paid
    healthy = ~per_loan.defaulted
    is_open = healthy & (paid_count < per_loan.term)
    remaining = (per_loan.term - paid_count) * per_loan.installment
    monthly = ibis.ifelse(
        per_loan.weekly,
        per_loan.installment * rules.WEEKS_PER_YEAR // rules.MONTHS_PER_YEAR,
        per_loan.installment,
    )
    return per_loan.group_by("member_id").agg(
        loans_repaid=_count(per_loan, healthy & (paid_count >= per_loan.term)),
        open_loans=_count(per_loan, is_open),
        outstanding_balance=remaining.sum(where=is_open),
        open_principal=(per_loan.term * per_loan.installment).sum(where=is_open),
        monthly_burden=monthly.sum(where=is_open),
    )


def judgments(valid: ibis.Table) -> ibis.Table:
    """Court judgments still counting: open ones, and ones satisfied in the last two years."""
    v = valid.filter(_is(valid, "court_judgment_entered", "court_judgment_satisfied"))
    entered = v.type == "court_judgment_entered"
    satisfied = ~entered & v.case_id.notnull()
    both = v.group_by("member_id", "source", "case_id").agg(
        entered_age=v.age.max(where=entered), satisfied_age=v.age.max(where=satisfied)
    )
    both = both.filter(both.entered_age.notnull())
    counting = both.entered_age < rules.EXPIRY_OPEN_JUDGMENT
    return both.group_by("member_id").agg(
        open_judgments=_count(both, counting & both.satisfied_age.isnull()),
        satisfied_judgments_2y=_count(
            both, counting & (both.satisfied_age < rules.EXPIRY_SATISFIED_JUDGMENT)
        ),
    )


def deposit_free_rentals(valid: ibis.Table) -> ibis.Table:
    """Rentals started without a deposit and closed cleanly in the last 24 months."""
    started = valid.filter((valid.type == "rental_started") & valid.waived.fill_null(False))
    started = started.select(s_member="member_id", s_source="source", s_rental="rental_id")
    closed = valid.filter(
        (valid.type == "rental_closed")
        & ~valid.incident.fill_null(False)
        & (valid.age < rules.WINDOW_24M)
    )
    clean = closed.semi_join(
        started,
        [
            closed.member_id == started.s_member,
            closed.source == started.s_source,
            closed.rental_id == started.s_rental,
        ],
    )
    return clean.group_by("member_id").agg(deposit_free_rentals_clean_24m=clean.count())


def build_plan(gather: Gather = join_parts) -> Plan:
    """The whole computation, from the input tables to one row of features per member.

    ``gather`` puts the parts beside the members: joins for a lake, a stack for one member
    (``plan.stack_parts``); the values are the same.
    """
    plan, valid, spine = _start()
    network = connection_features(plan, valid, spine, scores_table(), gather)
    plan.add("features", _finish(gather(spine, [*_own_parts(valid), network])))
    return plan


def own_plan(gather: Gather = join_parts) -> Plan:
    """What :func:`build_plan` gives a member from their own events alone: every feature
    but the connections dimension's (empty here), and whether the member opted in to it.

    The online path splits the plan in two (this and :func:`connections_plan`): a member
    who did not opt in needs only this one, and for one who did, this part runs while the
    network is read. The other dimensions read no one else's events, so splitting changes
    no value (``tests/features`` hold the online path to the reference).
    """
    plan, valid, spine = _start()
    parts = [*_own_parts(valid), _no_connections(spine)]
    plan.add("features", _finish(gather(spine, parts), keep=("opted_in",)))
    return plan


def connections_plan(gather: Gather = join_parts) -> Plan:
    """The connections dimension's features alone (empty unless the member opted in)."""
    plan, valid, spine = _start()
    network = connection_features(plan, valid, spine, scores_table(), gather)
    plan.add("features", network.select("member_id", *_cast(network, CONNECTIONS_FEATURES)))
    return plan


def _start() -> tuple[Plan, ibis.Table, ibis.Table]:
    """A plan's first stages: the events that count, and the members."""
    plan = Plan()
    valid = plan.add("valid", valid_events(events_table(), disputes_table()))
    return plan, valid, plan.add("members", member_spine(valid))


def _own_parts(valid: ibis.Table) -> list[ibis.Table]:
    """The parts that read only each member's own events (every dimension but one)."""
    return [
        simple_counts(valid),
        money_flows(valid),
        spending_spread(valid),
        obligations(valid),
        loans(valid),
        judgments(valid),
        deposit_free_rentals(valid),
    ]


#: The features of the connections dimension, in catalogue order.
CONNECTIONS_FEATURES = tuple(
    spec.name for spec in FEATURES if spec.dimension == Dimension.connections
)


def _no_connections(spine: ibis.Table) -> ibis.Table:
    specs = features_by_name()
    return spine.select(
        "member_id", **{name: ibis.null(specs[name].kind) for name in CONNECTIONS_FEATURES}
    )


def _cast(t: ibis.Table, names: Iterable[str]) -> dict[str, ir.Value]:
    specs = features_by_name()
    return {name: t[name].cast(specs[name].kind) for name in names}


def _ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """A ratio of exact integers (one correctly rounded division), empty when undefined."""
    return numerator.cast("float64") / denominator.cast("float64").nullif(0.0)


def _finish(t: ibis.Table, keep: tuple[str, ...] = ()) -> ibis.Table:
    """Spine and parts joined → the catalogue's columns, in catalogue order and types (and
    the spine's columns ``keep`` after them)."""
    zero = {
        name: t[name].fill_null(0)
        for name in (
            "missed_installments_12m",
            "defaults_5y",
            "open_judgments",
            "satisfied_judgments_2y",
            "loans_repaid",
            "rentals_closed_clean_24m",
            "deposit_free_rentals_clean_24m",
            "rental_incidents_24m",
            "negative_feedback_24m",
            "positive_feedback_24m",
            "outstanding_balance",
            "open_loans",
            "address_changes_24m",
            "employment_changes_24m",
        )
    }
    income = t.income_12m.fill_null(0)
    monthly_income = income // t.periods
    spend = t.spend_12m.fill_null(0)
    mean = t.spend_sum / t.periods
    variance = ibis.greatest(t.spend_squares / t.periods - mean * mean, 0.0)
    profile = (
        t.verified.cast("int64")
        + t.has_profile.fill_null(False).cast("int64")
        + t.has_address.fill_null(False).cast("int64")
        + t.has_employment.fill_null(False).cast("int64")
    )
    values = {
        **zero,
        "on_time_share_3m": t.on_time_share_3m,
        "on_time_share_12m": t.on_time_share_12m,
        "on_time_share_24m": t.on_time_share_24m,
        "worst_days_late_12m": t.worst_days_late_12m,
        "months_since_missed_payment": t.missed_age // rules.MONTH_DAYS,
        "credit_history_months": t.credit_history_age // rules.MONTH_DAYS,
        "spending_volatility_12m": variance.sqrt() / mean.nullif(0.0),
        "gambling_spend_share_12m": _ratio(t.gambling_12m.fill_null(0), spend),
        "monthly_income_12m": monthly_income,
        "income_regularity_12m": _ratio(
            ibis.least(t.income_periods.fill_null(0), t.periods), t.periods
        ),
        "debt_to_income": _ratio(t.monthly_burden.fill_null(0), monthly_income),
        "loan_balance_share": _ratio(t.outstanding_balance, t.open_principal),
        "spending_to_income_12m": _ratio(spend, income),
        "identity_verified": t.verified.cast("int64"),
        "profile_completeness": profile.cast("float64") / 4.0,
        "membership_months": t.enrolled_age // rules.MONTH_DAYS,
        "address_tenure_months": t.address_age // rules.MONTH_DAYS,
        "employment_tenure_months": t.employment_age // rules.MONTH_DAYS,
        "verified_connections": t.verified_connections,
        "connections_default_share_12m": t.connections_default_share_12m,
        "defaulter_exposure": t.defaulter_exposure,
        "connections_mean_score": t.connections_mean_score,
        "groups_mean_score": t.groups_mean_score,
    }
    return t.select(
        "member_id",
        **{spec.name: values[spec.name].cast(spec.kind) for spec in FEATURES},
        **{name: t[name] for name in keep},
    )

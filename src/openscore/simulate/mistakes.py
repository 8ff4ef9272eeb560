"""Honest mistakes and their retraction, so that consumers must honour ``event_retracted``.

A small share of reports are wrong: a biller issues a bill twice, a lender reports a paid
installment as missed, a partner files feedback against the wrong rental. Each mistaken event
is withdrawn by the same source, about the same member, a few days later (always within the
period, so no mistake is left standing).
"""

from __future__ import annotations

import numpy as np

from openscore.simulate.blocks import Codes, Const, Dates, EventBlock, Numbered
from openscore.simulate.clock import DAY, HOUR
from openscore.simulate.rentals import POLARITIES
from openscore.simulate.state import Step

REASONS = {
    "bill_issued": "duplicate bill issued in error",
    "installment_missed": "installment was paid; missed payment reported in error",
    "partner_feedback": "feedback recorded against the wrong rental",
}


def _mistake(step: Step, block: EventBlock, chosen: np.ndarray) -> EventBlock | None:
    """The mistaken copy of the chosen rows of ``block`` (not yet emitted)."""
    rows = block.select(chosen)
    fields = dict(rows.fields)
    if block.type == "bill_issued":
        fields["bill_id"] = Numbered("bill-", step.out.numbering.take("bill", len(rows)))
        return EventBlock(
            "bill_issued", rows.time + HOUR, rows.member, rows.source, rows.number, fields
        )
    if block.type == "installment_paid":
        due, paid = fields["due_date"], fields["paid_date"]
        assert isinstance(due, Dates) and isinstance(paid, Dates)
        rows = rows.select(paid.days <= due.days)
        fields = dict(rows.fields)
        del fields["paid_date"]
        fields["days_past_due"] = Const(30)
        due = fields["due_date"]
        assert isinstance(due, Dates)
        at = (due.days + 30) * DAY + 7 * HOUR
        return EventBlock("installment_missed", at, rows.member, rows.source, rows.number, fields)
    if block.type == "partner_feedback":
        polarity = fields["polarity"]
        assert isinstance(polarity, Codes)
        keep = polarity.codes == POLARITIES.index("positive")
        rows = rows.select(keep)
        fields = dict(rows.fields)
        fields["polarity"] = Codes(np.full(len(rows), POLARITIES.index("negative")), POLARITIES)
        return EventBlock(
            "partner_feedback", rows.time + HOUR, rows.member, rows.source, rows.number, fields
        )
    return None


def mistakes(step: Step) -> None:
    """Add this month's mistaken reports and, a few days later, their retractions."""
    city, rng = step.city, step.rng("mistakes")
    cfg = city.config.retractions
    end = city.months[-1].end
    low, high = cfg.delay_days
    for block in list(step.out.blocks):
        if block.type not in ("bill_issued", "installment_paid", "partner_feedback"):
            continue
        if block.type == "partner_feedback" and not len(block):
            continue
        chosen = np.flatnonzero(rng.random(len(block)) < cfg.share)
        if block.type == "partner_feedback":
            chosen = chosen[block.source[chosen] != city.sources.rogue]
        mistaken = _mistake(step, block, chosen)
        if mistaken is None or not len(mistaken):
            continue
        retract_at = mistaken.time + rng.integers(low, max(high, low) + 1, len(mistaken)) * DAY
        keep = retract_at < end
        mistaken = mistaken.select(keep)
        made = step.out.emit(
            mistaken.type, mistaken.time, mistaken.member, mistaken.source, mistaken.fields
        )
        reason = REASONS[mistaken.type]
        step.out.emit(
            "event_retracted",
            retract_at[keep],
            made.member,
            made.source,
            {"retracted_event_id": made.event_ids(), "retraction_reason": Const(reason)},
        )
        np.add.at(step.outcomes.mistaken_events, made.member, 1)
        step.tally.add("mistakes", step.index, len(made))

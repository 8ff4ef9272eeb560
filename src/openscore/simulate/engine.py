"""The month loop: every behaviour in a fixed order, then the month's events to a sink.

Events that happen after their month (a bill paid next month, a rental returned after the
month's end) wait in the router until their own month is written, so each month's file holds
exactly the events that occurred in it. Memory holds one month and the few events waiting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pyarrow as pa

from openscore.simulate.assemble import Renderer, month_tables, sort_month
from openscore.simulate.blocks import BlockMaker, Codes, EventBlock, Ints, Numbering
from openscore.simulate.clock import Month, check_period
from openscore.simulate.config import SimulationConfig
from openscore.simulate.credit import credit
from openscore.simulate.groups import groups
from openscore.simulate.mistakes import mistakes
from openscore.simulate.money import bills, income, purchases
from openscore.simulate.onboarding import enrol, leave, verify_and_declare
from openscore.simulate.outcomes import Outcomes, Tally
from openscore.simulate.rentals import POLARITIES, rentals
from openscore.simulate.social import SocialGraph, connections
from openscore.simulate.state import NEVER, City, Step, build_city
from openscore.simulate.work import careers, moves, shocks

CHUNK_ROWS = 1_000_000


class EventSink(Protocol):
    """Where a month of events goes: files, the ledger, or nowhere (statistics only)."""

    def write_month(self, month: Month, tables: Iterator[pa.Table]) -> None:
        """Consume the month's tables (time-ordered, wide schema)."""


class NullSink:
    """Renders nothing and writes nothing: for statistics on the city alone."""

    def write_month(self, month: Month, tables: Iterator[pa.Table]) -> None:
        """Discard the month without rendering it."""


class Router:
    """Holds events that belong to later months until their month is written."""

    def __init__(self, end: int) -> None:
        self.end = end
        self.pending: list[EventBlock] = []
        self.dropped = 0

    def route(self, blocks: list[EventBlock], month: Month, left_time: Ints) -> list[EventBlock]:
        """This month's events among the waiting and the new ones; keep the rest waiting.

        Events after the period's end, and events about a member after they left, are dropped.
        """
        current: list[EventBlock] = []
        later: list[EventBlock] = []
        for block in [*self.pending, *blocks]:
            keep = (block.time < self.end) & (block.time <= left_time[block.member])
            self.dropped += int((~keep).sum())
            now = keep & (block.time < month.end)
            if (block.time[now] < month.start).any():
                raise AssertionError(f"{block.type} events dated before {month.label}")
            if now.any():
                current.append(block.select(now))
            if (keep & ~now).any():
                later.append(block.select(keep & ~now))
        self.pending = later
        return current


@dataclass
class CityRun:
    """Everything a finished city leaves behind apart from its events."""

    city: City
    graph: SocialGraph
    outcomes: Outcomes
    tally: Tally
    events_by_type: dict[str, Ints] = field(default_factory=dict)
    feedback: dict[tuple[str, str], int] = field(default_factory=dict)
    dropped: int = 0


def _live_one_month(step: Step, graph: SocialGraph) -> None:
    city = step.city
    enrol(step)
    city.active = (city.population.life_start <= step.index) & (city.left_time == NEVER)
    leavers = leave(step)
    city.active &= city.left_time == NEVER
    shocks(step)
    careers(step)
    moves(step)
    income(step)
    purchases(step)
    bills(step)
    credit(step)
    rentals(step)
    verify_and_declare(step)
    groups(step, leavers)
    connections(step, graph, leavers)
    mistakes(step)


def _count(run: CityRun, month: Month, blocks: list[EventBlock]) -> None:
    months = len(run.city.months)
    for block in blocks:
        series = run.events_by_type.setdefault(block.type, np.zeros(months, np.int64))
        series[month.index] += len(block)
        if block.type == "partner_feedback":
            polarity = block.fields["polarity"]
            assert isinstance(polarity, Codes)
            pairs = block.source * len(POLARITIES) + polarity.codes
            counts = np.bincount(pairs, minlength=len(run.city.sources.names) * len(POLARITIES))
            for pair in np.flatnonzero(counts).tolist():
                source, sign = divmod(pair, len(POLARITIES))
                key = (run.city.sources.names[source], POLARITIES[sign])
                run.feedback[key] = run.feedback.get(key, 0) + int(counts[pair])


def _tables(
    renderer: Renderer, blocks: list[EventBlock], month: Month, chunk_rows: int
) -> Iterator[pa.Table]:
    # Lazy: a sink that keeps nothing never pays for sorting and rendering.
    yield from month_tables(renderer, sort_month(blocks, month.start), chunk_rows)


def simulate(
    config: SimulationConfig,
    sink: EventSink,
    *,
    on_month: Callable[[Month, int], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    now: dt.datetime | None = None,
) -> CityRun:
    """Live the city month by month, handing each month's events to ``sink`` in time order.

    Raises ``PeriodError`` before doing anything if the period ends after ``now``.
    """
    check_period(config.city.start, config.city.months, now or dt.datetime.now(dt.UTC))
    city = build_city(config)
    months = len(city.months)
    graph = SocialGraph.empty(city.size)
    run = CityRun(city, graph, Outcomes.empty(months, city.size), Tally(months))
    router = Router(city.months[-1].end)
    renderer = Renderer(city.member_ids, city.sources.names)
    maker = BlockMaker(Numbering(), city.sources.names)
    for month in city.months:
        step = Step(
            city,
            month,
            maker,
            run.outcomes,
            run.tally,
            job_change_time=np.full(city.size, NEVER),
            move_time=np.full(city.size, NEVER),
        )
        _live_one_month(step, graph)
        blocks = router.route(maker.take(), month, city.left_time)
        _count(run, month, blocks)
        sink.write_month(month, _tables(renderer, blocks, month, chunk_rows))
        if on_month is not None:
            on_month(month, sum(len(b) for b in blocks))
    run.dropped = router.dropped
    return run

"""Ground truth and counters gathered while the city lives, for ``truth/`` and ``summary.md``.

Both are small: a few flags per member and month, and integer counters per month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from openscore.simulate.blocks import Ints


@dataclass
class Outcomes:
    """What really happened to each member (never written into events)."""

    default_flags: np.ndarray
    """(months, members) bool: a loan of the member reached 90 days past due that month."""
    exposed: np.ndarray
    """(months, members) bool: the member had a loan at the start of the month."""
    shock_kind: np.ndarray
    """(months, members) int8: 0 none, 1 job loss, 2 illness, active that month."""
    false_negative_feedback: Ints
    judgments: Ints
    loans_opened: Ints
    mistaken_events: Ints

    @classmethod
    def empty(cls, months: int, members: int) -> Outcomes:
        """Nothing has happened yet."""
        return cls(
            default_flags=np.zeros((months, members), np.bool_),
            exposed=np.zeros((months, members), np.bool_),
            shock_kind=np.zeros((months, members), np.int8),
            false_negative_feedback=np.zeros(members, np.int64),
            judgments=np.zeros(members, np.int64),
            loans_opened=np.zeros(members, np.int64),
            mistaken_events=np.zeros(members, np.int64),
        )


@dataclass
class Tally:
    """Monthly counters for the summary (bills late, installments missed, exposure...)."""

    months: int
    monthly: dict[str, Ints] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, month: int, value: int | np.integer) -> None:
        """Add ``value`` to counter ``name`` in ``month`` (ignored past the period)."""
        if name not in self.monthly:
            self.monthly[name] = np.zeros(self.months, np.int64)
        if 0 <= month < self.months:
            self.monthly[name][month] += int(value)

    def add_months(self, name: str, months: Ints) -> None:
        """Count one for each entry of ``months`` (event months; past-period ones ignored)."""
        if name not in self.monthly:
            self.monthly[name] = np.zeros(self.months, np.int64)
        inside = months[(months >= 0) & (months < self.months)]
        self.monthly[name] += np.bincount(inside, minlength=self.months)[: self.months]

    def count(self, name: str, value: int | np.integer) -> None:
        """Add to a period total."""
        self.totals[name] = self.totals.get(name, 0) + int(value)

    def series(self, name: str) -> Ints:
        """A monthly counter (zeros when never touched)."""
        return self.monthly.get(name, np.zeros(self.months, np.int64))

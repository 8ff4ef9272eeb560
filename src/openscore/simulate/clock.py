"""Calendar months of the simulated period, and the seeded random streams.

Times are whole seconds since the Unix epoch (UTC) and dates are days since the epoch, both
as int64 NumPy arrays, so a month of events is plain vectorised arithmetic.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np

DAY = 86_400
HOUR = 3_600


class PeriodError(ValueError):
    """A simulated period the ledger could not accept (it ends in the future)."""


@dataclass(frozen=True, slots=True)
class Month:
    """One calendar month of the period."""

    index: int
    first_day: dt.date

    @property
    def label(self) -> str:
        """``YYYY-MM``, the name of the month's partition."""
        return f"{self.first_day:%Y-%m}"

    @property
    def start_day(self) -> int:
        """Days since the epoch of the month's first day."""
        return (self.first_day - dt.date(1970, 1, 1)).days

    @property
    def days(self) -> int:
        """Number of days in the month."""
        return (add_months(self.first_day, 1) - self.first_day).days

    @property
    def start(self) -> int:
        """The month's first second (epoch seconds, UTC)."""
        return self.start_day * DAY

    @property
    def end(self) -> int:
        """The first second after the month."""
        return (self.start_day + self.days) * DAY


def add_months(day: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months after ``day``'s month."""
    total = day.year * 12 + day.month - 1 + count
    return dt.date(total // 12, total % 12 + 1, 1)


def period(start: dt.date, months: int) -> list[Month]:
    """The months of a simulated period."""
    return [Month(i, add_months(start, i)) for i in range(months)]


def check_period(start: dt.date, months: int, now: dt.datetime) -> None:
    """Refuse a period that would end after ``now``: the ledger refuses future events."""
    end = add_months(start, months)
    if dt.datetime(end.year, end.month, end.day, tzinfo=dt.UTC) > now:
        last = add_months(start, months - 1)
        raise PeriodError(
            f"the period {start:%Y-%m} to {last:%Y-%m} ({months} months) ends on {end} "
            f"(exclusive), after today ({now:%Y-%m-%d}); the ledger refuses events in the "
            "future: use fewer --months or an earlier --start"
        )


def stream(seed: int, name: str, month: int = -1) -> np.random.Generator:
    """An independent random stream for one behaviour (and month).

    Each behaviour draws from its own stream keyed by name, so changing one behaviour never
    shifts the random numbers of another, and months never share numbers.
    """
    return np.random.default_rng([seed, zlib.crc32(name.encode()), month + 1])

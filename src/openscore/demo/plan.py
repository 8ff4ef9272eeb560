"""When the demo city lives and which instants it is trained and scored at.

The city ends with the last whole month before today, so the service, which scores as of
the moment an event arrives, sees the same recent past the batch scores saw. The model is
trained as of a year before the end (features then, label: a default in the following
year), and everyone is scored as of each of the last months, so members have a history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

HORIZON_MONTHS = 12
HISTORY_MONTHS = 6
MIN_MONTHS = HORIZON_MONTHS + HISTORY_MONTHS


def month_start(day: dt.date, months_back: int = 0) -> dt.date:
    """The first day of the month ``months_back`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def end_of_month_before(first_day: dt.date) -> dt.datetime:
    """The last microsecond (UTC) before ``first_day`` begins."""
    midnight = dt.datetime.combine(first_day, dt.time(), dt.UTC)
    return midnight - dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class DemoPlan:
    """The city's size and calendar."""

    members: int
    months: int
    seed: int
    start: dt.date

    @classmethod
    def ending_last_month(
        cls, members: int, months: int, seed: int, today: dt.date | None = None
    ) -> DemoPlan:
        if months < MIN_MONTHS:
            raise ValueError(
                f"the demo needs at least {MIN_MONTHS} months: {HORIZON_MONTHS} to see "
                f"defaults after training and {HISTORY_MONTHS} of score history"
            )
        today = today or dt.datetime.now(dt.UTC).date()
        return cls(members, months, seed, month_start(today, months))

    @property
    def end(self) -> dt.datetime:
        """The last instant of the city's last month."""
        return end_of_month_before(month_start(self.start, -self.months))

    @property
    def train_as_of(self) -> dt.datetime:
        return end_of_month_before(month_start(self.start, HORIZON_MONTHS - self.months))

    @property
    def score_as_ofs(self) -> list[dt.datetime]:
        """Month ends, oldest first, the last being the city's end."""
        first_after = month_start(self.start, -self.months)
        return [
            end_of_month_before(month_start(first_after, back))
            for back in range(HISTORY_MONTHS - 1, -1, -1)
        ]

    def city_dir(self, data_dir: Path) -> Path:
        return data_dir / (
            f"city-{self.members}x{self.months}-seed{self.seed}-from{self.start:%Y-%m}"
        )

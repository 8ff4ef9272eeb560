"""The city's training set, point in time: features as of a date, defaults after it.

**Population.** Every member the feature engine gives a row for as of ``as_of``: enrolled on
or before it and not left by then (``docs/features.md``, "Membership"). Members who joined
later, or had left, are not in the training set.

**Label** ("bad"): the member defaulted within ``horizon`` months after ``as_of``:

- ``ledger`` (default): a ``loan_defaulted`` event with ``as_of < occurred_at <= as_of +
  horizon months`` in the lake, not retracted by its source;
- ``truth``: the simulator's ``truth/members.parquet``, ``any(default_by_month[d+1 : d+1+H])``
  with ``d`` the month index of ``as_of`` (``docs/simulate.md``, "Ground truth").

Features only ever see events up to ``as_of`` (the engines enforce it); labels only events
after it, so nothing of the outcome leaks into the features.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow.parquet as pq

from openscore.features.catalogue import FEATURES
from openscore.features.engines import FeatureRequest, Progress, get_engine
from openscore.scoring.training import TrainingSet

Labels = Literal["ledger", "truth"]

#: The connections dimension is opt-in and capped: its features together can move a score by
#: at most this many points (docs/scoring.md).
CONNECTIONS_CAP = 50


def add_months(instant: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    index = instant.month - 1 + months
    year, month = instant.year + index // 12, index % 12 + 1
    for day in range(instant.day, 27, -1):
        try:
            return instant.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return instant.replace(year=year, month=month, day=min(instant.day, 28))


def ledger_labels(
    lake: Path, start: dt.datetime, end: dt.datetime
) -> tuple[set[str], dt.datetime | None]:
    """Members with an unretracted default in ``(start, end]``, and the lake's last event."""
    glob = str(lake / "events" / "*" / "*.parquet")
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        events = f"read_parquet('{glob}', union_by_name = true)"
        rows = connection.execute(
            f"""
            SELECT DISTINCT d.member_id FROM {events} AS d
            WHERE d.type = 'loan_defaulted' AND d.occurred_at > ? AND d.occurred_at <= ?
              AND NOT EXISTS (
                SELECT 1 FROM {events} AS r
                WHERE r.type = 'event_retracted' AND r.source = d.source
                  AND r.member_id = d.member_id AND r.retracted_event_id = d.event_id)
            """,
            [start, end],
        ).fetchall()
        # Epoch microseconds: DuckDB would need pytz to hand back an aware timestamp.
        (micros,) = connection.execute(
            f"SELECT epoch_us(max(occurred_at)) FROM {events}"
        ).fetchone() or (None,)
    finally:
        connection.close()
    last = (
        None
        if micros is None
        else dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=int(micros))
    )
    return {str(r[0]) for r in rows}, last


def truth_labels(truth: Path, as_of: dt.datetime, horizon: int) -> tuple[dict[str, bool], int]:
    """Each member's "defaulted within the horizon" from the ground truth, and the months known."""
    path = truth / "members.parquet" if truth.is_dir() else truth
    if not path.exists():
        raise FileNotFoundError(f"{path}: no ground truth (truth/members.parquet) here")
    table = pq.read_table(path, columns=["member_id", "active_from_month", "default_by_month"])
    start = min(d for d in table["active_from_month"].to_pylist() if d is not None)
    month = (as_of.year - start.year) * 12 + as_of.month - start.month
    labels = {}
    months = 0
    for member, defaults in zip(
        table["member_id"].to_pylist(), table["default_by_month"].to_pylist(), strict=True
    ):
        window = (defaults or [])[month + 1 : month + 1 + horizon]
        months = max(months, len(window))
        labels[str(member)] = any(window)
    return labels, months


def city_training_set(
    as_of: dt.datetime,
    horizon: int,
    lake: Path,
    *,
    labels: Labels = "ledger",
    truth: Path | None = None,
    engine: str = "duckdb",
    progress: Progress | None = None,
) -> TrainingSet:
    """Features of every member as of ``as_of`` and whether they defaulted within ``horizon``."""
    runner = get_engine(engine)
    try:
        table = runner.compute(FeatureRequest(as_of=as_of, lake=lake), progress)
    finally:
        runner.close()
    frame = table.to_pandas().set_index("member_id")
    end = add_months(as_of, horizon)
    data: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "horizon_months": horizon,
        "outcome_window": f"({as_of.isoformat()}, {end.isoformat()}]",
        "population": "members enrolled on or before as_of and not left by then",
        "members": len(frame),
        "lake": str(lake),
        "engine": engine,
        "labels": labels,
    }
    if labels == "truth":
        if truth is None:
            raise ValueError("--labels truth needs --truth DIR (the simulator's truth/)")
        known, months = truth_labels(truth, as_of, horizon)
        bad = np.asarray([known.get(str(m), False) for m in frame.index], dtype=bool)
        data["truth"] = str(truth)
        if months < horizon:
            data["censored"] = f"the truth covers only {months} of the {horizon} months"
    else:
        defaulted, last = ledger_labels(lake, as_of, end)
        bad = np.asarray([str(m) in defaulted for m in frame.index], dtype=bool)
        if last is None or last < end:
            data["censored"] = f"the lake ends at {last}, before the outcome window does"
    data["bad_rate"] = round(float(bad.mean()), 6) if len(bad) else None
    catalogue = {spec.name: spec for spec in FEATURES}
    describe = {
        name: {
            "dimension": spec.dimension.value,
            "direction": spec.direction.value,
            "actionable": spec.actionable,
            "description": spec.description,
            "kind": spec.kind,
        }
        for name, spec in catalogue.items()
    }
    params = {
        "directions": {n: s.direction.value for n, s in catalogue.items()},
        "dimensions": {n: s.dimension.value for n, s in catalogue.items()},
        "dimension_caps": {"connections": CONNECTIONS_CAP},
    }
    frame = frame[[spec.name for spec in FEATURES]].astype("float64")
    return TrainingSet(frame, bad, f"default_{horizon}m", "city", describe, data, params)

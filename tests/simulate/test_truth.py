"""The truth file agrees with the events, and every column is documented."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from openscore.simulate.engine import CityRun

DOCS = Path(__file__).parents[2] / "docs" / "simulate.md"


def test_first_default_month_is_the_month_of_the_first_loan_default(
    eventful_parquet: tuple[Path, CityRun],
) -> None:
    root, run = eventful_parquet
    first_event: dict[str, dt.date] = {}
    for path in sorted((root / "events").rglob("*.parquet")):
        table = pq.read_table(path, columns=["type", "member_id", "occurred_at"])
        defaults = table.filter(pc.equal(table.column("type"), "loan_defaulted")).to_pylist()
        for row in defaults:
            first_event.setdefault(row["member_id"], row["occurred_at"].date().replace(day=1))
    truth = pq.read_table(root / "truth" / "members.parquet").to_pylist()
    first_truth = {r["member_id"]: r["first_default_month"] for r in truth if r["default_count"]}
    assert len(first_truth) > 20
    assert first_truth == first_event
    months = len(run.city.months)
    for row in truth:
        assert len(row["default_by_month"]) == len(row["borrower_by_month"]) == months
        assert row["default_count"] == sum(row["default_by_month"])


def test_one_rogue_partner_is_marked(eventful_parquet: tuple[Path, CityRun]) -> None:
    root, _ = eventful_parquet
    partners = pq.read_table(root / "truth" / "partners.parquet").to_pylist()
    assert [p["source"] for p in partners if p["rogue"]] == ["partner:quickwheels"]


def test_every_truth_column_is_documented(eventful_parquet: tuple[Path, CityRun]) -> None:
    root, _ = eventful_parquet
    docs = DOCS.read_text()
    for name in ("members", "partners"):
        for column in pq.read_schema(root / "truth" / f"{name}.parquet").names:
            assert f"`{column}`" in docs, column

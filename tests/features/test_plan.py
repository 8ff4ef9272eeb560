"""Putting parts beside the members: a chain of joins and a stack give the same table."""

from __future__ import annotations

import ibis
import pyarrow as pa
import pytest

from openscore.features.plan import Gather, join_parts, stack_parts

SPINE = ibis.memtable(pa.table({"member_id": ["a", "b", "c"], "opted_in": [True, False, True]}))
COUNTS = ibis.memtable(
    pa.table({"member_id": ["a", "c", "x"], "visits": [3, None, 7], "seen": [True, False, True]})
)
MONEY = ibis.memtable(pa.table({"member_id": ["b", "c"], "income": [1.5, 2.25]}))


def _rows(table: ibis.Table) -> list[dict[str, object]]:
    return table.order_by("member_id").to_pyarrow().to_pylist()


@pytest.mark.parametrize("gather", [join_parts, stack_parts], ids=["joins", "stack"])
def test_every_spine_member_gets_each_parts_value_or_empty(gather: Gather) -> None:
    rows = _rows(gather(SPINE, [COUNTS, MONEY]).select("member_id", "visits", "seen", "income"))
    assert rows == [
        {"member_id": "a", "visits": 3, "seen": True, "income": None},
        {"member_id": "b", "visits": None, "seen": None, "income": 1.5},
        # A row with an empty value stays empty; a member outside the spine ("x") is dropped.
        {"member_id": "c", "visits": None, "seen": False, "income": 2.25},
    ]


def test_the_stack_keeps_each_columns_type() -> None:
    stacked = stack_parts(SPINE, [COUNTS, MONEY]).schema()
    joined = join_parts(SPINE, [COUNTS, MONEY]).schema()
    for name in ("visits", "seen", "income"):
        assert stacked[name] == joined[name]


def test_a_column_from_two_parts_is_refused() -> None:
    again = ibis.memtable(pa.table({"member_id": ["a"], "income": [9.0]}))
    with pytest.raises(ValueError, match="'income' comes from more than one part"):
        stack_parts(SPINE, [MONEY, again])

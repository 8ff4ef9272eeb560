"""A month of blocks as time-ordered Arrow tables in exactly the ledger's wide schema.

The month is sorted once on one integer key (time, type rank, member), then cut into chunks;
each chunk's columns are rendered from the blocks' integer codes straight into Arrow arrays.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from openscore.ledger.wide import wide_schema
from openscore.simulate.blocks import (
    TYPE_RANK,
    Codes,
    Column,
    Const,
    Dates,
    EventBlock,
    Ints,
    MemberRef,
    Numbered,
)

#: Member indices fit in 27 bits of the sort key (the config caps members at 50 million).
_MEMBER_BITS = 27
_RANK_BITS = 5


@dataclass(frozen=True)
class Renderer:
    """Turns block columns into Arrow arrays: knows the member ids and the sources."""

    member_ids: pa.Array
    sources: tuple[str, ...]

    def array(self, column: Column, rows: Ints, arrow_type: pa.DataType) -> pa.Array:
        """``column`` at ``rows`` as an Arrow array of ``arrow_type``."""
        if isinstance(column, Codes):
            codes = column.codes[rows]
            return pa.array(column.vocabulary, pa.string()).take(
                pa.array(codes, pa.int64(), mask=codes < 0)
            )
        if isinstance(column, Numbered):
            number = column.number[rows]
            text = pc.cast(pa.array(number, pa.int64(), mask=number < 0), pa.string())
            return pc.binary_join_element_wise(column.prefix, text, "")
        if isinstance(column, MemberRef):
            return self.member_ids.take(pa.array(column.index[rows], pa.int64()))
        if isinstance(column, Dates):
            return pa.array(column.days[rows].astype(np.int32), pa.date32())
        if isinstance(column, Const):
            return pa.repeat(pa.scalar(column.value, arrow_type), len(rows))
        values = column[rows]
        if values.dtype == np.bool_:
            return pa.array(values, pa.bool_())
        return pa.array(values, arrow_type, mask=values < 0)

    def envelope(self, block: EventBlock, name: str) -> Column:
        """An envelope column of a block, in block-column form."""
        if name == "schema_version":
            return Const(1)
        if name == "event_id":
            return block.event_ids()
        if name == "type":
            return Const(block.type)
        if name == "member_id":
            return MemberRef(block.member)
        if name == "source":
            return Codes(block.source, self.sources)
        raise KeyError(name)


@dataclass(frozen=True)
class SortedMonth:
    """A month's blocks and the time order of all their rows."""

    blocks: Sequence[EventBlock]
    order: Ints
    block_of: Ints
    row_of: Ints

    def __len__(self) -> int:
        return len(self.order)


def sort_month(blocks: Sequence[EventBlock], month_start: int) -> SortedMonth:
    """Order every event of the month by (occurred_at, type rank, member); stable on ties."""
    keys = [
        ((b.time - month_start) << (_RANK_BITS + _MEMBER_BITS))
        | (TYPE_RANK[b.type] << _MEMBER_BITS)
        | b.member
        for b in blocks
    ]
    key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    order = np.argsort(key, kind="stable")
    block_of = np.concatenate([np.full(len(b), i, np.int64) for i, b in enumerate(blocks)] or [key])
    row_of = np.concatenate([np.arange(len(b), dtype=np.int64) for b in blocks] or [key])
    return SortedMonth(blocks, order, block_of, row_of)


def _column_of(renderer: Renderer, block: EventBlock, name: str) -> Column | None:
    if name in ("schema_version", "event_id", "type", "member_id", "source"):
        return renderer.envelope(block, name)
    return block.fields.get(name)


Part = tuple[Ints, Ints, Column]
"""Chunk positions, block rows, and the block's column."""


def _numbers(column: Column, rows: Ints) -> Ints:
    if isinstance(column, Const):
        return np.full(len(rows), int(column.value), np.int64)
    if isinstance(column, Dates):
        return column.days[rows]
    assert isinstance(column, np.ndarray)
    return column[rows].astype(np.int64)


def _numeric(parts: list[Part], size: int, arrow_type: pa.DataType) -> pa.Array:
    values = np.zeros(size, np.int64)
    valid = np.zeros(size, np.bool_)
    for where, rows, column in parts:
        numbers = _numbers(column, rows)
        values[where] = numbers
        # Negative numbers stand for null: no amount, count or date of the city is negative.
        valid[where] = True if isinstance(column, Dates) else numbers >= 0
    if pa.types.is_boolean(arrow_type):
        return pa.array(values.astype(np.bool_), arrow_type, mask=~valid)
    if pa.types.is_date(arrow_type):
        return pa.array(values.astype(np.int32), arrow_type, mask=~valid)
    return pa.array(values, arrow_type, mask=~valid)


def _vocabulary(parts: list[Part]) -> tuple[list[str], list[Ints]]:
    """One vocabulary for the chunk, and each part's codes into it."""
    vocabulary: dict[str, int] = {}
    codes = []
    for _, rows, column in parts:
        if isinstance(column, Const):
            code = vocabulary.setdefault(str(column.value), len(vocabulary))
            codes.append(np.full(len(rows), code, np.int64))
            continue
        assert isinstance(column, Codes)
        mapping = np.array(
            [vocabulary.setdefault(word, len(vocabulary)) for word in column.vocabulary] + [-1],
            np.int64,
        )
        codes.append(mapping[column.codes[rows]])  # code -1 picks the trailing -1: null
    return list(vocabulary), codes


def _text(renderer: Renderer, parts: list[Part], size: int) -> pa.Array | None:
    """A string column gathered as integers and rendered once; None for mixed kinds."""
    kinds = {Codes if isinstance(c, Const) else type(c) for _, _, c in parts}
    if kinds == {Codes}:
        vocabulary, codes = _vocabulary(parts)
        out = np.full(size, -1, np.int64)
        for (where, _, _), part_codes in zip(parts, codes, strict=True):
            out[where] = part_codes
        return pa.array(vocabulary, pa.string()).take(pa.array(out, mask=out < 0))
    if kinds == {MemberRef}:
        out = np.full(size, -1, np.int64)
        for where, rows, column in parts:
            assert isinstance(column, MemberRef)
            out[where] = column.index[rows]
        return renderer.member_ids.take(pa.array(out, mask=out < 0))
    if kinds == {Numbered}:
        prefixes: dict[str, int] = {}
        prefix = np.full(size, -1, np.int64)
        number = np.full(size, -1, np.int64)
        for where, rows, column in parts:
            assert isinstance(column, Numbered)
            prefix[where] = prefixes.setdefault(column.prefix, len(prefixes))
            number[where] = column.number[rows]
        null = number < 0
        heads = pa.array(list(prefixes), pa.string()).take(pa.array(prefix, mask=null))
        tails = pc.cast(pa.array(number, mask=null), pa.string())
        return pc.binary_join_element_wise(heads, tails, "")
    return None


def _rendered(
    renderer: Renderer, parts: list[Part], size: int, arrow_type: pa.DataType
) -> pa.Array:
    """Fallback for a column whose blocks use different kinds: render each, then gather."""
    pieces: list[pa.Array] = []
    index = np.full(size, -1, np.int64)
    offset = 0
    for where, rows, column in parts:
        pieces.append(renderer.array(column, rows, arrow_type))
        index[where] = offset + np.arange(len(where))
        offset += len(where)
    pieces.append(pa.nulls(1, arrow_type))
    index[index < 0] = offset
    return pa.concat_arrays(pieces).take(pa.array(index))


def chunk_table(renderer: Renderer, month: SortedMonth, start: int, stop: int) -> pa.Table:
    """Rows ``start:stop`` of the sorted month as a table in the wide schema.

    Each column is gathered from the blocks as integers (codes, numbers, member indices) and
    rendered to Arrow once, which is far cheaper than rendering per block and gathering strings.
    """
    schema = wide_schema()
    positions = month.order[start:stop]
    size = len(positions)
    block_of = month.block_of[positions]
    rows = month.row_of[positions]
    grouped = np.argsort(block_of, kind="stable")
    present, first = np.unique(block_of[grouped], return_index=True)
    bounds = np.append(first, size)
    slices = []
    for k, b in enumerate(present.tolist()):
        where = grouped[bounds[k] : bounds[k + 1]]
        slices.append((month.blocks[b], where, rows[where]))
    columns: list[pa.Array] = []
    for arrow_field in schema:
        name, arrow_type = arrow_field.name, arrow_field.type
        parts: list[Part] = []
        for block, where, block_rows in slices:
            if name == "occurred_at":
                micros = block.time[block_rows] * 1_000_000
                parts.append((where, np.arange(len(where)), micros))
                continue
            column = _column_of(renderer, block, name)
            if column is not None:
                parts.append((where, block_rows, column))
        if not parts:
            columns.append(pa.nulls(size, arrow_type))
        elif not pa.types.is_string(arrow_type):
            columns.append(_numeric(parts, size, arrow_type))
        else:
            text = _text(renderer, parts, size)
            columns.append(
                text if text is not None else _rendered(renderer, parts, size, arrow_type)
            )
    return pa.Table.from_arrays(columns, schema=schema)


def month_tables(
    renderer: Renderer, month: SortedMonth, chunk_rows: int = 1_000_000, workers: int = 2
) -> Iterator[pa.Table]:
    """The sorted month as consecutive wide tables of at most ``chunk_rows`` rows.

    Chunks are rendered ahead on ``workers`` threads (Arrow and NumPy release the GIL), while
    the consumer writes the previous one; the order of the tables never changes.
    """
    bounds = [(a, min(a + chunk_rows, len(month))) for a in range(0, len(month), chunk_rows)]
    if workers <= 1 or len(bounds) <= 1:
        for start, stop in bounds:
            yield chunk_table(renderer, month, start, stop)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[pa.Table]] = deque()
        for start, stop in bounds:
            pending.append(pool.submit(chunk_table, renderer, month, start, stop))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

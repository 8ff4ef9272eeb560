"""JSON lines from a wide table, vectorised: what ``model_dump_json(exclude_none=True)`` gives.

Fields appear in the catalogue model's order; a null optional field is left out. The
simulator's strings come from fixed vocabularies and id patterns with no character that JSON
must escape (a test checks the vocabularies), so values are quoted, never escaped.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from openscore.ledger.catalogue import EVENT_TYPES


@cache
def _required(event_type: str) -> frozenset[str]:
    model = EVENT_TYPES[event_type]
    return frozenset(name for name, info in model.model_fields.items() if info.is_required())


def _value_text(column: pa.Array) -> pa.Array:
    kind = column.type
    if pa.types.is_timestamp(kind):
        seconds = column.cast(pa.timestamp("s", tz="UTC"))
        return pc.binary_join_element_wise(
            '"', pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ"), '"', ""
        )
    if pa.types.is_string(kind) or pa.types.is_date(kind):
        return pc.binary_join_element_wise('"', column.cast(pa.string()), '"', "")
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "true", "false")
    return column.cast(pa.string())


def _lines_of_type(table: pa.Table, event_type: str) -> pa.Array:
    pieces: list[pa.Array | str] = ["{"]
    required = _required(event_type)
    for position, name in enumerate(EVENT_TYPES[event_type].model_fields):
        column = table.column(name).combine_chunks()
        key = ("," if position else "") + f'"{name}":'
        text = pc.binary_join_element_wise(key, _value_text(column), "")
        if name not in required:
            text = pc.if_else(pc.is_null(column), "", text)
        pieces.append(text)
    pieces.append("}\n")
    return pc.binary_join_element_wise(*pieces, "")


def json_lines(table: pa.Table) -> bytes:
    """Every row of a wide table as one JSON line, in the table's order."""
    types = table.column("type").combine_chunks()
    names = pc.unique(types).to_pylist()
    parts: list[pa.Array] = []
    index = np.empty(len(table), np.int64)
    offset = 0
    for event_type in sorted(names):
        where = np.flatnonzero(pc.equal(types, event_type).to_numpy(zero_copy_only=False))
        parts.append(_lines_of_type(table.take(pa.array(where)), event_type))
        index[where] = offset + np.arange(len(where))
        offset += len(where)
    if not parts:
        return b""
    lines = pa.concat_arrays(parts).take(pa.array(index))
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    data = lines.buffers()[2]
    text: bytes = data.to_pybytes()[int(offsets[0]) : int(offsets[-1])]
    return text

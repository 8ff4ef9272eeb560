"""Events in bulk: a block is many events of one type held as NumPy columns.

Behaviours produce blocks; strings (ids, categories) stay integer codes until a month is
written, so sorting and routing a month of events moves integers, not Python objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from openscore.ledger.catalogue import EVENT_TYPES

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

#: Order of types among events at the same second: enrolment first, leaving last.
TYPE_RANK: dict[str, int] = {
    name: rank for rank, name in enumerate(sorted(EVENT_TYPES, key=lambda t: t == "member_left"))
}

#: ``event_id`` prefix per type; ids are ``<prefix>-<number>``, numbered per type.
EVENT_PREFIX: dict[str, str] = {
    "member_enrolled": "enr",
    "member_left": "lft",
    "identity_verified": "idv",
    "profile_declared": "prf",
    "address_changed": "adr",
    "employment_changed": "emp",
    "income_received": "inc",
    "payment_made": "pay",
    "bill_issued": "bil",
    "bill_paid": "bpd",
    "loan_opened": "lon",
    "installment_due": "idu",
    "installment_paid": "ipd",
    "installment_missed": "ims",
    "loan_defaulted": "ldf",
    "rental_started": "rst",
    "rental_closed": "rcl",
    "partner_feedback": "fbk",
    "court_judgment_entered": "cje",
    "court_judgment_satisfied": "cjs",
    "connection_made": "con",
    "connection_removed": "cor",
    "group_joined": "gjn",
    "group_left": "glf",
    "event_retracted": "ret",
}


@dataclass(frozen=True, slots=True)
class Codes:
    """Values from a fixed vocabulary as integer codes (-1 is null)."""

    codes: Ints
    vocabulary: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Numbered:
    """Identifiers ``<prefix><number>``, e.g. ``loan-42`` (a negative number is null)."""

    prefix: str
    number: Ints


@dataclass(frozen=True, slots=True)
class MemberRef:
    """Another member, by index into the city's member ids."""

    index: Ints


@dataclass(frozen=True, slots=True)
class Dates:
    """Calendar dates as days since the epoch."""

    days: Ints


@dataclass(frozen=True, slots=True)
class Const:
    """One value for every row (a currency, a frequency)."""

    value: str | int | bool


#: A column of a block: int64 or bool arrays, or one of the kinds above.
Column = npt.NDArray[Any] | Codes | Numbered | MemberRef | Dates | Const


def select_column(column: Column, index: Ints | Bools) -> Column:
    """The rows ``index`` of a block column."""
    if isinstance(column, np.ndarray):
        return column[index]
    if isinstance(column, Codes):
        return Codes(column.codes[index], column.vocabulary)
    if isinstance(column, Numbered):
        return Numbered(column.prefix, column.number[index])
    if isinstance(column, MemberRef):
        return MemberRef(column.index[index])
    if isinstance(column, Dates):
        return Dates(column.days[index])
    return column


@dataclass(frozen=True, slots=True)
class EventBlock:
    """Events of one type: envelope arrays plus the type's own columns."""

    type: str
    time: Ints
    """``occurred_at`` in epoch seconds."""
    member: Ints
    """Index of the member the event is about."""
    source: Ints
    """Code into the city's source vocabulary."""
    number: Ints
    """Event number within the type; ``event_id`` is ``<prefix>-<number>``."""
    fields: Mapping[str, Column] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.time)

    def select(self, index: Ints | Bools) -> EventBlock:
        """The events at ``index`` (positions or a mask)."""
        return EventBlock(
            self.type,
            self.time[index],
            self.member[index],
            self.source[index],
            self.number[index],
            {name: select_column(col, index) for name, col in self.fields.items()},
        )

    def event_ids(self) -> Numbered:
        """The events' ``event_id`` values."""
        return Numbered(EVENT_PREFIX[self.type] + "-", self.number)


class Numbering:
    """Running numbers per kind (event type, bill, loan...), so every id is unique in the city."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, kind: str, count: int) -> Ints:
        """``count`` fresh numbers for ``kind``."""
        start = self._next.get(kind, 1)
        self._next[kind] = start + count
        return np.arange(start, start + count, dtype=np.int64)


@dataclass
class BlockMaker:
    """Creates blocks with fresh event numbers; the one place event ids are handed out."""

    numbering: Numbering
    sources: tuple[str, ...]
    blocks: list[EventBlock] = field(default_factory=list)

    def source_code(self, source: str) -> int:
        """Code of a source (``platform``, ``member``, ``partner:x``, ``court:x``)."""
        return self.sources.index(source)

    def emit(
        self,
        event_type: str,
        time: Ints,
        member: Ints,
        source: Ints | int,
        fields: Mapping[str, Column] | None = None,
    ) -> EventBlock:
        """Add a block of ``event_type`` events and return it."""
        count = len(time)
        sources = np.broadcast_to(np.asarray(source, dtype=np.int64), (count,)).copy()
        block = EventBlock(
            event_type,
            time.astype(np.int64, copy=False),
            member.astype(np.int64, copy=False),
            sources,
            self.numbering.take(event_type, count),
            dict(fields or {}),
        )
        if count:
            self.blocks.append(block)
        return block

    def take(self) -> list[EventBlock]:
        """The blocks made so far, leaving none."""
        blocks, self.blocks = self.blocks, []
        return blocks

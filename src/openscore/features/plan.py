"""A feature computation as named stages, each an Ibis expression over the ones before it.

Definitions build a :class:`Plan`: stage ``valid`` reads the input tables, later stages read
earlier stages by name through unbound tables. Batch engines materialise every stage (a
temporary table in DuckDB, a cached view in Spark), so the big event scan happens once and
the graph iterations stay small; the online path stitches the stages into one ``WITH`` query.
Either way each stage is the same SQL, compiled from the same expression.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import ibis
import ibis.expr.datatypes as idt
import ibis.expr.types as ir

#: The instant features are computed as of; bound when a plan is compiled.
AS_OF: ir.Scalar = ibis.param("timestamp('UTC')")


@dataclass(frozen=True, slots=True)
class Stage:
    """One named step of a plan."""

    name: str
    expr: ibis.Table


@dataclass
class Plan:
    """Stages in dependency order; the last one is the feature table (one row per member)."""

    stages: list[Stage] = field(default_factory=list)

    def add(self, name: str, expr: ibis.Table) -> ibis.Table:
        """Append a stage; returns the unbound table later stages read it through."""
        if any(stage.name == name for stage in self.stages):
            raise ValueError(f"stage {name!r} is already in the plan")
        self.stages.append(Stage(name, expr))
        return ibis.table(expr.schema(), name=name)

    def __iter__(self) -> Iterator[Stage]:
        return iter(self.stages)

    def __len__(self) -> int:
        return len(self.stages)

    @property
    def result(self) -> Stage:
        """The final stage: the feature table."""
        return self.stages[-1]


Compile = Callable[[ibis.Table], str]


def compile_stages(plan: Plan, compile_one: Compile) -> list[tuple[str, str]]:
    """Every stage as (name, SQL) with one compiler (a backend's, with ``as_of`` bound)."""
    return [(stage.name, compile_one(stage.expr)) for stage in plan]


def as_one_query(stages: list[tuple[str, str]]) -> str:
    """Stages as a single ``WITH`` query ending in the last stage."""
    *before, (_, last) = stages
    if not before:
        return last
    ctes = ",\n".join(f'"{name}" AS (\n{sql}\n)' for name, sql in before)
    return f"WITH {ctes}\nSELECT * FROM (\n{last}\n)"


def join_parts(spine: ibis.Table, parts: list[ibis.Table]) -> ibis.Table:
    """Left-join every part to the spine on ``member_id`` as one flat chain of joins.

    Each part has at most one row per ``member_id`` and its own column names; a member with
    no row in a part gets empty values for its columns. Each part's key gets its own name,
    so Ibis emits a single SELECT with all the joins instead of one nested projection per
    join (which costs DuckDB's binder dearly online).
    """
    table = spine
    for position, part in enumerate(parts):
        key = f"_key{position}"
        keyed = part.rename({key: "member_id"})
        table = table.left_join(keyed, table.member_id == keyed[key])
    return table


#: How a plan puts the parts (one row per member each) beside the spine.
Gather = Callable[[ibis.Table, list[ibis.Table]], ibis.Table]


def stack_parts(spine: ibis.Table, parts: list[ibis.Table]) -> ibis.Table:
    """What :func:`join_parts` returns, with one join instead of one per part.

    The parts are stacked (each row padded with empty values for the other parts' columns),
    folded to one row per member with ``max`` (which picks the one value a member has in each
    column, or empty), and joined to the spine once. Online, where DuckDB's time goes into
    setting up operators rather than running them, this is about a third cheaper than eight
    joins; on a whole lake the padded rows cost more than the joins they save (100,000
    members: 6% slower, 13% more memory), so batch engines join.
    """
    columns: dict[str, idt.DataType] = {}
    for part in parts:
        for name, kind in part.schema().items():
            if name == "member_id":
                continue
            if name in columns or name in spine.columns:
                raise ValueError(f"column {name!r} comes from more than one part (or the spine)")
            columns[name] = kind
    padded = [
        part.select(
            "member_id",
            **{
                name: part[name] if name in part.columns else ibis.null(kind)
                for name, kind in columns.items()
            },
        )
        for part in parts
    ]
    stacked = ibis.union(*padded, distinct=False)
    folded = stacked.group_by(_member="member_id").agg(
        **{name: stacked[name].max() for name in columns}
    )
    joined = spine.left_join(folded, spine.member_id == folded._member)
    return joined.drop("_member")


def check_as_of(as_of: dt.datetime) -> dt.datetime:
    """``as_of`` as an aware UTC instant; a naive one is refused rather than guessed."""
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError(f"as_of {as_of.isoformat()} needs a time zone, e.g. UTC")
    return as_of.astimezone(dt.UTC)

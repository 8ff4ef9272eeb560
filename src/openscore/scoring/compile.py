"""A scorecard compiled to an Ibis expression, so that DuckDB or Spark score every member in place.

Each feature becomes a ``CASE`` of its bins' conditions yielding integer points, read the
way :meth:`~openscore.scoring.artefact.FeatureScore.points_for` reads them: missing (null or
NaN) first, then ``value < split`` tests, either as a binary search of nested ``CASE``s (the
default: about log2(bins) comparisons a row, measurably faster in DuckDB than a chain) or
as one chain in ascending order; either way the bin is the number of splits at or below the
value (``searchsorted(side="right")``). A categorical feature tests each bin's list of
values and gives ``other_points`` to any value no list holds. The total is the intercept
plus the points, the score the total clipped to the range, the band the last whose lower
bound is at most the score. Every number after the bin test is an integer, so every engine
gets the reference scorer's sum exactly.

The projections are stacked (points, then total, then score, then band) rather than written
as one expression, so the SQL names each ``CASE`` once instead of repeating it inside the sum
and the clip.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import ibis
import ibis.expr.types as ir

from openscore.scoring.artefact import FeatureScore, ScorecardArtefact

#: How a numerical feature's bin is found: a binary search of nested ``CASE``s, or a chain.
Search = Literal["binary", "linear"]

#: Output columns besides the input's and the per-feature points.
TOTAL, SCORE, BAND = "total", "score", "band"


class CompileError(ValueError):
    """The artefact does not fit the feature table (a missing or mistyped column)."""


def points_column(feature: str) -> str:
    """The name of a feature's points column in a scored table."""
    return f"points__{feature}"


def _points(value: int) -> ir.IntegerScalar:
    return ibis.literal(value, type="int64")


def feature_points(
    feature: FeatureScore, column: ir.Column, search: Search = "binary"
) -> ir.IntegerValue:
    """One feature's integer points as a ``CASE`` over its bins.

    ``binary`` nests the ``CASE`` as a binary search over the splits (about log2(bins)
    comparisons a row); ``linear`` tests ``value < split`` in ascending order. Both give the
    bin ``searchsorted(splits, value, side="right")``.
    """
    if feature.dtype == "categorical":
        return _categorical_points(feature, column)
    if not column.type().is_numeric():
        raise CompileError(
            f"feature {feature.name!r} is numerical but its column is {column.type()}"
        )
    missing = column.isnull()
    if column.type().is_floating():
        missing = missing | column.isnan()
    below = _below(column, feature.splits)
    if search == "binary":
        found = _binary(feature, below, 0, len(feature.points) - 1)
    else:
        branches = [
            (below(position), _points(points))
            for position, points in enumerate(feature.points[:-1])
        ]
        found = ibis.cases(*branches, else_=_points(feature.points[-1])) if branches else None
    if found is None:
        found = _points(feature.points[0])
    return ibis.cases((missing, _points(feature.missing_points)), else_=found)


#: Integers up to this size convert to doubles exactly, so ``x < ceil(s)`` is ``float(x) < s``.
EXACT_INTEGER = 2**53

Below = Callable[[int], ir.BooleanValue]


def _below(column: ir.Column, splits: list[float]) -> Below:
    """``below(i)``: the value is under split ``i``, as the reference's ``float(value) < s``.

    Doubles are compared with the split itself. An integer column is compared with
    ``ceil(split)`` as an integer (for an integer x, ``x < s`` exactly when ``x < ceil(s)``),
    which spares the engine a cast per row and comparison; the values the catalogue holds
    (counts, months, money in minor units) are far below 2**53, where the two agree.
    """
    if column.type().is_integer() and all(abs(s) < EXACT_INTEGER for s in splits):
        return lambda i: column < ibis.literal(math.ceil(splits[i]), type="int64")
    number = column.cast("float64")
    return lambda i: number < ibis.literal(splits[i], type="float64")


def _binary(feature: FeatureScore, below: Below, low: int, high: int) -> ir.IntegerValue:
    """Points of bins ``low..high``: split in the middle, recurse on each side."""
    if low == high:
        return _points(feature.points[low])
    middle = (low + high + 1) // 2  # bins below ``middle`` hold values < splits[middle - 1]
    return ibis.cases(
        (below(middle - 1), _binary(feature, below, low, middle - 1)),
        else_=_binary(feature, below, middle, high),
    )


def _categorical_points(feature: FeatureScore, column: ir.Column) -> ir.IntegerValue:
    # The reference looks a value up by str(value); a string column needs no cast.
    text = column if column.type().is_string() else column.cast("string")
    branches: list[tuple[ir.BooleanValue, ir.IntegerScalar]] = [
        (column.isnull(), _points(feature.missing_points))
    ]
    for values, points in zip(feature.categories, feature.points, strict=True):
        branches.append((text.isin(values), _points(points)))
    return ibis.cases(*branches, else_=_points(feature.other_points))


def _clip(total: ir.IntegerColumn, low: int, high: int) -> ir.IntegerValue:
    return ibis.cases((total < low, _points(low)), (total > high, _points(high)), else_=total)


def _band(artefact: ScorecardArtefact, score: ir.IntegerColumn) -> ir.StringValue:
    # Highest band first: the first lower bound at or below the score is the last such band.
    bands = sorted(artefact.bands, key=lambda band: band.lower, reverse=True)
    branches = [(score >= band.lower, ibis.literal(band.name)) for band in bands[:-1]]
    lowest = ibis.literal(bands[-1].name)
    return ibis.cases(*branches, else_=lowest) if branches else lowest


def check_columns(artefact: ScorecardArtefact, schema: ibis.Schema) -> None:
    """Refuse a feature table that lacks ``member_id`` or one of the artefact's features."""
    missing = [name for name in ("member_id", *artefact.feature_names()) if name not in schema]
    if missing:
        raise CompileError(
            f"the feature table has no column {', '.join(map(repr, missing))} "
            f"that model {artefact.model_id} reads"
        )
    taken = {points_column(name) for name in artefact.feature_names()} | {TOTAL, SCORE, BAND}
    if clash := sorted(taken & set(schema)):
        raise CompileError(f"the feature table already has column(s) {', '.join(clash)}")


def compile_scorecard(
    artefact: ScorecardArtefact,
    features: ibis.Table,
    keep: Sequence[str] | None = None,
    search: Search = "binary",
) -> ibis.Table:
    """The feature table scored: ``keep`` columns (default all), points per feature, total,
    score and band, one row per input row.

    Parameters
    ----------
    artefact
        The scorecard.
    features
        A table with ``member_id`` and a column per feature the artefact reads.
    keep
        Input columns to carry into the result (default: every input column).
    search
        ``binary`` (nested ``CASE``, the default) or ``linear`` (one ``CASE`` chain); the
        same points either way, see :func:`feature_points`.
    """
    check_columns(artefact, features.schema())
    carried = list(features.columns if keep is None else keep)
    points = {
        points_column(f.name): feature_points(f, features[f.name], search)
        for f in artefact.features
    }
    scored = features.select(*carried, **points)
    names = list(points)
    total = sum((scored[name] for name in names[1:]), start=scored[names[0]])
    scored = scored.mutate(**{TOTAL: (total + artefact.intercept_points).cast("int64")})
    low, high = artefact.scaling.min_score, artefact.scaling.max_score
    scored = scored.mutate(**{SCORE: _clip(scored[TOTAL], low, high)})
    return scored.mutate(**{BAND: _band(artefact, scored[SCORE])})


def scoring_sql(
    artefact: ScorecardArtefact,
    schema: ibis.Schema,
    dialect: str,
    table: str = "features",
    keep: Sequence[str] | None = None,
    search: Search = "binary",
) -> str:
    """The compiled scorecard as one SQL query over ``table`` in ``dialect``."""
    expression = compile_scorecard(artefact, ibis.table(schema, name=table), keep, search)
    return str(ibis.to_sql(expression, dialect=dialect, pretty=False))

"""A scorecard compiled to an Ibis expression, so that DuckDB or Spark score every member in place.

Each feature becomes a ``CASE`` of its bins' conditions yielding integer points, read the
way :meth:`~openscore.scoring.artefact.FeatureScore.points_for` reads them: ``value < split``
tests, either as a binary search of nested ``CASE``s weighted by the bins' training counts
(the default: the bins most rows fall in take the fewest comparisons) or as one chain in
ascending order; either way the bin is the number of splits at or below the value
(``searchsorted(side="right")``). Neighbouring bins with equal points are one branch. A
missing value (null or NaN) fails every ``<`` test, so it is told apart only in the top
bin. A categorical feature tests each bin's list of values and gives ``other_points`` to
any value no list holds. The total is the intercept
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
from dataclasses import dataclass
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

    ``binary`` nests the ``CASE`` as a binary search over the splits, weighted by the bins'
    training counts (:func:`_binary`); ``linear`` tests ``value < split`` in ascending order.
    Both give the bin ``searchsorted(splits, value, side="right")``.
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
    # Missing values need no test of their own on every row: a comparison with NULL is not
    # true, and NaN orders above every number in DuckDB and Spark, so both fail every
    # ``value < split`` test and reach the top bin, the only place they are told apart.
    last, absent = feature.points[-1], feature.missing_points
    top = (
        _points(last)
        if absent == last
        else ibis.cases((missing, _points(absent)), else_=_points(last))
    )
    below = _below(column, feature.splits)
    runs = _runs(feature)
    if search == "binary":
        return _binary(runs, below, 0, len(runs) - 1, top)
    branches = [(below(run.split), _points(run.points)) for run in runs[:-1]]
    return ibis.cases(*branches, else_=top) if branches else top


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


@dataclass(frozen=True)
class _Run:
    """Adjacent bins with the same points: values below ``splits[split]`` (the run's upper
    bound; -1 for the top run) and not below the previous run's bound."""

    points: int
    split: int
    weight: int


def _runs(feature: FeatureScore) -> list[_Run]:
    """The feature's bins with neighbours of equal points merged, each weighted by how many
    training rows its bins held (1 a bin when the artefact records no counts).

    Merging changes no row's points and spares a comparison per merged boundary; the weights
    let the binary search put the bins most rows fall in nearest the root.
    """
    counts = [b.count for b in feature.bins] if feature.bins else [1] * len(feature.points)
    runs: list[_Run] = []
    for position, (points, count) in enumerate(zip(feature.points, counts, strict=True)):
        split = position if position < len(feature.splits) else -1
        if runs and runs[-1].points == points:
            runs[-1] = _Run(points, split, runs[-1].weight + count)
        else:
            runs.append(_Run(points, split, count))
    return runs


def _binary(
    runs: list[_Run], below: Below, low: int, high: int, top: ir.IntegerValue
) -> ir.IntegerValue:
    """Points of runs ``low..high`` as nested ``CASE``s: split where the weights on either
    side are closest to equal (a weighted binary search, so the commonest values take the
    fewest comparisons); ``top`` is the last run's expression, which also takes the missing.
    """
    if low == high:
        return top if high == len(runs) - 1 else _points(runs[low].points)
    total = sum(run.weight for run in runs[low : high + 1])
    best, below_weight, last = low, 0, math.inf
    for middle in range(low, high):  # the runs up to ``middle`` go left
        below_weight += runs[middle].weight
        imbalance = abs(total - 2 * below_weight)
        if imbalance < last:
            best, last = middle, imbalance
    return ibis.cases(
        (below(runs[best].split), _binary(runs, below, low, best, top)),
        else_=_binary(runs, below, best + 1, high, top),
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

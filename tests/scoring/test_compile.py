"""The compiled scorecard on DuckDB and Spark against the reference scorer, row by row."""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar

import ibis
import pyarrow as pa
import pytest

from openscore.scoring.artefact import ScorecardArtefact
from openscore.scoring.breakdown import breakdown, reason_dicts
from openscore.scoring.compile import CompileError, Search, compile_scorecard, points_column
from openscore.scoring.inengine import score_on_duckdb, score_on_spark
from openscore.scoring.scorer import score_features
from tests.scoring.batch_fixtures import SPARK, city_features, city_lake, city_model, spark_session
from tests.scoring.handmade import CREATED

__all__ = ["city_features", "city_lake", "city_model", "spark_session"]

ENGINES = ["duckdb", SPARK]
INF = math.inf
NAN = math.nan


def tabular(features: list[dict[str, Any]], intercept: int) -> ScorecardArtefact:
    for feature in features:
        feature.setdefault("dimension", "tabular")
        feature.setdefault("actionable", True)
        feature.setdefault("other_points", feature["missing_points"])
    return ScorecardArtefact.model_validate(
        {
            "model_id": "sc-edges",
            "kind": "tabular",
            "created_at": CREATED,
            "target": "bad",
            "features": features,
            "intercept_points": intercept,
        }
    )


EDGES = tabular(
    [
        {"name": "x", "dtype": "numerical", "splits": [0.8, 0.95], "points": [-12, 3, 18],
         "missing_points": -5},
        {"name": "n", "dtype": "numerical", "splits": [1.0, 3.0], "points": [10, 0, -20],
         "missing_points": 2},
        {"name": "c", "dtype": "categorical", "categories": [["a", "b"], ["c"]],
         "points": [4, -4], "missing_points": -1, "other_points": -7},
        # A lever big enough to push the total past both ends of the range.
        {"name": "lever", "dtype": "numerical", "splits": [0.0], "points": [-400, 400],
         "missing_points": 0},
        # Integer columns with fractional and negative splits (compared as x < ceil(s)) ...
        {"name": "k", "dtype": "numerical", "splits": [-1.5, 2.5, 7.0], "points": [1, 2, 3, 4],
         "missing_points": 0},
        # ... and with a split too large for that, compared as doubles.
        {"name": "g", "dtype": "numerical", "splits": [5.0, 1e60], "points": [0, 6, 9],
         "missing_points": 0},
    ],
    intercept=550,
)  # fmt: skip

EDGE_ROWS = pa.table(
    {
        "member_id": ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"],
        "x": [0.8, 0.7999999999, 0.95, None, NAN, 1e308, -INF, INF],
        "n": pa.array([1, 0, 3, None, 100, -5, 2, 3], pa.int64()),
        "c": ["a", "c", "zzz", None, "b", "", "C", "a"],
        "lever": [0.0, -0.1, None, NAN, -1e300, 1e-300, -0.0, 5.0],
        "k": pa.array([-2, -1, 2, None, 3, 7, 6, -1], pa.int64()),
        "g": pa.array([4, 5, 10**18, None, 0, -(10**18), 5, None], pa.int64()),
    }
)


def score(
    engine: str,
    request: pytest.FixtureRequest,
    artefact: ScorecardArtefact,
    table: pa.Table,
    search: Search = "binary",
) -> pa.Table:
    if engine == "spark":
        session = request.getfixturevalue("spark_session")
        return score_on_spark(artefact, table, session, search=search)
    return score_on_duckdb(artefact, table, threads=1, search=search)


def assert_matches_reference(
    artefact: ScorecardArtefact, table: pa.Table, scored: pa.Table
) -> None:
    """Every row's points, total, score, band, sub-scores and reasons equal the reference's."""
    assert scored["member_id"].to_pylist() == sorted(table["member_id"].to_pylist())
    by_member = {row["member_id"]: row for row in table.to_pylist()}
    found = breakdown(artefact, scored)
    values = {name: scored[name].to_pylist() for name in artefact.feature_names()}
    for position, row in enumerate(scored.to_pylist()):
        expected = score_features(artefact, by_member[row["member_id"]])
        got_points = {f: row[points_column(f)] for f in artefact.feature_names()}
        assert got_points == expected.points, row["member_id"]
        assert (row["total"], row["score"], row["band"]) == (
            expected.total,
            expected.score,
            expected.band,
        ), row["member_id"]
        subscores = {
            d: {"points": int(found.subscore_points[d][position]),
                "scale": float(found.subscore_scale[d][position])}
            for d in found.subscore_points
        }  # fmt: skip
        assert subscores == expected.subscores_dict(), row["member_id"]
        assert reason_dicts(artefact, found, position, values) == expected.reasons_list()


SEARCHES: list[Search] = ["binary", "linear"]


class TestEdgeRows:
    @pytest.mark.parametrize("search", SEARCHES)
    @pytest.mark.parametrize("engine", ENGINES)
    def test_match_the_reference(
        self, engine: str, search: Search, request: pytest.FixtureRequest
    ) -> None:
        scored = score(engine, request, EDGES, EDGE_ROWS, search)
        assert_matches_reference(EDGES, EDGE_ROWS, scored)

    @pytest.mark.parametrize("search", SEARCHES)
    @pytest.mark.parametrize("engine", ENGINES)
    def test_follow_the_contract(
        self, engine: str, search: Search, request: pytest.FixtureRequest
    ) -> None:
        scored = score(engine, request, EDGES, EDGE_ROWS, search)
        rows = {r["member_id"]: r for r in scored.to_pylist()}
        x, n, c = (points_column(name) for name in ("x", "n", "c"))
        # A value equal to a split is in the bin above it (searchsorted side="right").
        assert (rows["r1"][x], rows["r1"][n]) == (3, 0)
        assert (rows["r3"][x], rows["r3"][n]) == (18, -20)
        assert (rows["r2"][x], rows["r2"][n]) == (-12, 10)
        # Beyond the last split, and infinities, take the end bins.
        assert (rows["r6"][x], rows["r7"][x], rows["r8"][x]) == (18, -12, 18)
        # Null and NaN are missing; an unseen category (case matters) gets other_points.
        assert (rows["r4"][x], rows["r5"][x], rows["r4"][n], rows["r4"][c]) == (-5, -5, 2, -1)
        assert (rows["r3"][c], rows["r6"][c], rows["r7"][c], rows["r2"][c]) == (-7, -7, -7, -4)
        k, g = points_column("k"), points_column("g")
        assert [rows[f"r{i}"][k] for i in range(1, 9)] == [1, 2, 2, 0, 3, 4, 3, 2]
        assert [rows[f"r{i}"][g] for i in range(1, 9)] == [0, 6, 6, 0, 0, 0, 6, 0]
        # The lever pushes totals past 950 and below 350: the score is clipped, the total not.
        assert (rows["r1"]["total"], rows["r1"]["score"], rows["r1"]["band"]) == (
            550 + 3 + 0 + 4 + 400 + 1 + 0,
            950,
            "excellent",
        )
        assert (rows["r2"]["total"], rows["r2"]["score"], rows["r2"]["band"]) == (
            550 - 12 + 10 - 4 - 400 + 2 + 6,
            350,
            "poor",
        )


class TestBands:
    TOTALS: ClassVar[list[int]] = [349, 350, 549, 550, 599, 600, 649, 650, 699, 700, 950, 951]

    @pytest.mark.parametrize("search", SEARCHES)
    @pytest.mark.parametrize("engine", ENGINES)
    def test_each_band_starts_at_its_lower_bound(
        self, engine: str, search: Search, request: pytest.FixtureRequest
    ) -> None:
        # One feature whose bin k is worth exactly TOTALS[k] points (intercept 0).
        artefact = tabular(
            [{"name": "v", "dtype": "numerical", "splits": [float(k) for k in range(1, 12)],
              "points": self.TOTALS, "missing_points": 0}],
            intercept=0,
        )  # fmt: skip
        table = pa.table({"member_id": [f"m{k:02d}" for k in range(12)], "v": list(range(12))})
        scored = score(engine, request, artefact, table, search)
        assert scored["score"].to_pylist() == [350, 350, 549, 550, 599, 600, 649, 650, 699, 700,
                                               950, 950]  # fmt: skip
        assert scored["band"].to_pylist() == [
            "poor", "poor", "poor", "fair", "fair", "good", "good", "very good", "very good",
            "excellent", "excellent", "excellent",
        ]  # fmt: skip
        assert_matches_reference(artefact, table, scored)


def _with_counts(points: list[int], counts: list[int], missing: int) -> ScorecardArtefact:
    splits = [float(k) for k in range(1, len(points))]
    bins = [{"label": f"b{k}", "count": c, "event_rate": None, "woe": 0.0}
            for k, c in enumerate(counts)]  # fmt: skip
    return tabular(
        [{"name": "v", "dtype": "numerical", "splits": splits, "points": points,
          "missing_points": missing, "bins": bins}],
        intercept=600,
    )  # fmt: skip


class TestSearchLayout:
    """Neighbouring bins with equal points are merged and the search is weighted by the
    training counts; neither may change a row's points."""

    # Runs of equal points (5 5 | 1 1 1 | 9 9) and nearly every training row in the top bin.
    SKEWED = _with_counts([5, 5, 1, 1, 1, 9, 9], [10, 0, 3, 2, 1, 50, 9000], missing=-3)
    VALUES: ClassVar[list[float | None]] = [
        v for k in range(0, 8) for v in (k - 1e-9, float(k), k + 0.5)
    ] + [None, NAN, INF, -INF]

    @pytest.mark.parametrize("kind", ["float64", "int64"])
    @pytest.mark.parametrize("search", SEARCHES)
    @pytest.mark.parametrize("engine", ENGINES)
    def test_points_are_the_reference_points(
        self, engine: str, search: Search, kind: str, request: pytest.FixtureRequest
    ) -> None:
        if kind == "int64":
            values: list[Any] = [None, *range(-2, 10)]
        else:
            values = self.VALUES
        table = pa.table(
            {"member_id": [f"m{k:03d}" for k in range(len(values))],
             "v": pa.array(values, type=kind)}
        )  # fmt: skip
        scored = score(engine, request, self.SKEWED, table, search)
        assert_matches_reference(self.SKEWED, table, scored)
        # Null and NaN reach the top bin's test and are told apart there.
        points = dict(zip(scored["member_id"].to_pylist(),
                          scored[points_column("v")].to_pylist(), strict=True))  # fmt: skip
        assert [points[f"m{k:03d}"] for k, v in enumerate(values) if v is None] == [-3]

    def test_merged_bins_cost_no_comparison(self) -> None:
        sql = str(ibis.to_sql(compile_scorecard(self.SKEWED, ibis.table(
            {"member_id": "string", "v": "float64"}, name="t")), dialect="duckdb"))  # fmt: skip
        # Three runs: two boundaries (2.0 and 5.0), not six.
        assert sorted(set(re.findall(r'"v" < (\S+)', sql))) == ["2.0", "5.0"]

    def test_the_heaviest_bins_are_nearest_the_root(self) -> None:
        # Uniform weights put the root at the middle boundary; with nearly every row above
        # 5.0, the root test is the boundary of the heavy run, one comparison for them.
        sql = str(ibis.to_sql(compile_scorecard(self.SKEWED, ibis.table(
            {"member_id": "string", "v": "float64"}, name="t")), dialect="duckdb"))  # fmt: skip
        first = re.search(r'"v" < (\S+)', sql)
        assert first is not None and first.group(1) == "5.0"


class TestCity:
    @pytest.mark.parametrize("engine", ENGINES)
    def test_every_member_matches_the_reference(
        self,
        engine: str,
        request: pytest.FixtureRequest,
        city_model: ScorecardArtefact,
        city_features: pa.Table,
    ) -> None:
        scored = score(engine, request, city_model, city_features)
        assert scored.num_rows == city_features.num_rows > 100
        assert_matches_reference(city_model, city_features, scored)

    def test_the_city_uses_every_band_and_many_bins(
        self, city_model: ScorecardArtefact, city_features: pa.Table
    ) -> None:
        # Guards the parity test against a model too flat to catch a bin error.
        scored = score_on_duckdb(city_model, city_features)
        assert len(set(scored["band"].to_pylist())) >= 3
        distinct = [
            len(set(scored[points_column(f)].to_pylist())) for f in city_model.feature_names()
        ]
        assert sum(k >= 3 for k in distinct) >= 15


class TestRefusals:
    def test_a_missing_feature_column(self) -> None:
        table = ibis.table({"member_id": "string", "x": "float64"}, name="t")
        with pytest.raises(
            CompileError, match=r"no column 'n', 'c', 'lever', 'k', 'g' that model sc-edges"
        ):
            compile_scorecard(EDGES, table)

    def test_a_text_column_for_a_numerical_feature(self) -> None:
        table = ibis.table(
            {
                "member_id": "string",
                "x": "string",
                "n": "int64",
                "c": "string",
                "lever": "float64",
                "k": "int64",
                "g": "int64",
            },
            name="t",
        )
        with pytest.raises(CompileError, match="feature 'x' is numerical but its column is string"):
            compile_scorecard(EDGES, table)

    def test_a_column_named_like_an_output(self) -> None:
        table = ibis.table(
            {"member_id": "string", "x": "float64", "n": "int64", "c": "string",
             "lever": "float64", "k": "int64", "g": "int64", "score": "int64"},
            name="t",
        )  # fmt: skip
        with pytest.raises(CompileError, match="already has column"):
            compile_scorecard(EDGES, table)

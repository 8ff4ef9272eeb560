"""The estimator: scikit-learn's checks, JSON round trip, scaling and binning properties."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils.estimator_checks import parametrize_with_checks

from openscore.scoring.artefact import Scaling, load_artefact, save_artefact
from openscore.scoring.binning import bin_codes
from openscore.scoring.estimator import Scorecard
from openscore.scoring.scaling import bad_probability, bin_points, intercept_points
from openscore.scoring.training import TrainingSet
from tests.scoring.conftest import toy_data

#: Checks that do not apply to a points scorecard, each with the reason.
EXPECTED_FAILED = {
    "check_transformer_preserve_dtypes": "transform gives integer points by design",
}


@parametrize_with_checks(
    [Scorecard(binning_sample=1_000)],
    expected_failed_checks=lambda _estimator: EXPECTED_FAILED,
)
def test_scikit_learn_checks(estimator: Scorecard, check: object) -> None:
    check(estimator)  # type: ignore[operator]


def test_artefact_round_trip_gives_identical_points_for_every_row(
    city_set: TrainingSet, tmp_path: Path
) -> None:
    model = Scorecard(**city_set.params).fit(city_set.frame, city_set.bad)
    artefact = model.to_artefact(model_id="sc-20240101T000000Z-00000000", kind="city")
    reloaded = Scorecard.from_artefact(load_artefact(save_artefact(artefact, tmp_path / "m.json")))
    np.testing.assert_array_equal(
        reloaded.transform(city_set.frame), model.transform(city_set.frame)
    )
    np.testing.assert_array_equal(reloaded.scores(city_set.frame), model.scores(city_set.frame))
    np.testing.assert_array_equal(
        reloaded.predict_proba(city_set.frame)[:, 1], model.predict_proba(city_set.frame)[:, 1]
    )


def test_tabular_data_with_categories_missing_values_and_labels() -> None:
    frame, bad = toy_data()
    labels = np.where(bad == 1, "bad", "good")
    model = Scorecard(bad_label="bad").fit(frame, labels)
    assert list(model.classes_) == ["bad", "good"]
    proba = model.predict_proba(frame)
    assert proba[:, 0].mean() == pytest.approx((labels == "bad").mean(), abs=0.05)
    housing = next(f for f in model.features_ if f.name == "housing")
    assert housing.dtype == "categorical"
    assert housing.points_for("castle") == housing.other_points
    late = next(f for f in model.features_ if f.name == "late_payments")
    assert late.missing_points != 0  # 10% missing, more of them bad: weighed on its own


def test_direction_fixes_the_trend_of_points() -> None:
    frame, bad = toy_data(2_000)
    model = Scorecard(directions={"late_payments": "higher_is_worse", "income": "higher_is_better"})
    model.fit(frame[["income", "late_payments"]], bad)
    points = {f.name: f.points for f in model.features_}
    assert points["late_payments"] == sorted(points["late_payments"], reverse=True)
    assert points["income"] == sorted(points["income"])


def test_dimension_cap_limits_the_spread_and_missing_is_neutral() -> None:
    frame, bad = toy_data(2_000)
    model = Scorecard(
        dimensions={"income": "connections", "late_payments": "connections"},
        dimension_caps={"connections": 20},
    ).fit(frame[["income", "late_payments"]], bad)
    spread = sum(max(f.points) - min(f.points) for f in model.features_)
    assert spread <= 20 + len(model.features_)  # rounding adds at most one point per feature
    assert all(f.missing_points == 0 for f in model.features_)


def test_a_third_class_is_refused() -> None:
    frame, _ = toy_data(30)
    with pytest.raises(ValueError, match="Only binary classification"):
        Scorecard().fit(frame, np.arange(30) % 3)


@given(
    base=st.floats(300, 900),
    odds=st.floats(1.0, 200.0),
    pdo=st.floats(5.0, 100.0),
    log_odds=st.floats(-8.0, 8.0),
)
def test_doubling_the_odds_adds_pdo_points(
    base: float, odds: float, pdo: float, log_odds: float
) -> None:
    scaling = Scaling(base_score=base, base_odds=odds, pdo=pdo)
    score = scaling.offset + scaling.factor * log_odds
    doubled = scaling.offset + scaling.factor * (log_odds + math.log(2))
    assert doubled - score == pytest.approx(pdo)
    assert scaling.offset + scaling.factor * math.log(odds) == pytest.approx(base)


@given(
    intercept=st.floats(-5, 5),
    coefficient=st.floats(-3, 0),
    woe=st.lists(st.floats(-4, 4), min_size=1, max_size=12),
)
def test_points_are_rounded_once_and_read_back(
    intercept: float, coefficient: float, woe: list[float]
) -> None:
    scaling = Scaling()
    points = bin_points(scaling, coefficient, np.asarray(woe))
    exact = -scaling.factor * coefficient * np.asarray(woe)
    assert all(isinstance(p, int) for p in points)
    assert np.all(np.abs(np.asarray(points) - exact) <= 0.5)
    total = intercept_points(scaling, intercept) + points[0]
    bad = float(bad_probability(scaling, total))
    exact_bad = 1 / (1 + math.exp(-(intercept + coefficient * woe[0])))
    # one point is pdo / factor = ln 2 / pdo of log-odds; two roundings make at most one point
    assert math.log(bad / (1 - bad)) == pytest.approx(
        math.log(exact_bad / (1 - exact_bad)), abs=1.01 / scaling.factor
    )


@settings(max_examples=60)
@given(
    splits=st.lists(st.floats(-1e6, 1e6), min_size=0, max_size=8, unique=True).map(sorted),
    values=st.lists(st.one_of(st.none(), st.floats(-2e6, 2e6)), min_size=1, max_size=40),
)
def test_bin_codes_follow_the_artefact_rule(
    splits: list[float], values: list[float | None]
) -> None:
    codes = bin_codes("numerical", splits, [], pd.Series(values, dtype="float64"))
    for value, code in zip(values, codes, strict=True):
        if value is None:
            assert code == len(splits) + 1
        else:
            assert code == sum(s <= value for s in splits)

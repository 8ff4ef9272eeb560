"""The artefact: JSON round trip, validation errors that say where, the bin rule."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import orjson
import pytest

from openscore.scoring.artefact import (
    ArtefactError,
    FeatureScore,
    ScorecardArtefact,
    load_artefact,
    save_artefact,
)


def _artefact(**changes: object) -> ScorecardArtefact:
    data: dict[str, object] = {
        "model_id": "sc-20240101T000000Z-00000000",
        "kind": "tabular",
        "created_at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        "target": "bad",
        "features": [
            {
                "name": "late",
                "dimension": "tabular",
                "dtype": "numerical",
                "actionable": True,
                "splits": [1.0, 3.0],
                "points": [20, 0, -30],
                "missing_points": -5,
                "other_points": -5,
            },
            {
                "name": "housing",
                "dimension": "tabular",
                "dtype": "categorical",
                "actionable": False,
                "categories": [["own"], ["rent", "free"]],
                "points": [10, -10],
                "missing_points": 0,
                "other_points": -2,
            },
        ],
        "intercept_points": 600,
    }
    data.update(changes)
    return ScorecardArtefact.model_validate(data)


def test_round_trip_is_identical(tmp_path: Path) -> None:
    artefact = _artefact()
    path = save_artefact(artefact, tmp_path / "m.json")
    assert load_artefact(path) == artefact
    assert load_artefact(path).to_json() == artefact.to_json()


@pytest.mark.parametrize(
    ("value", "points"),
    [
        (0.0, 20),
        (0.999, 20),
        (1.0, 0),
        (2.5, 0),
        (3.0, -30),
        (99.0, -30),
        (None, -5),
        (math.nan, -5),
    ],
)
def test_numerical_bin_is_the_number_of_splits_at_or_below(
    value: float | None, points: int
) -> None:
    feature = _artefact().by_name["late"]
    assert feature.points_for(value) == points
    if value is not None and not math.isnan(value):
        assert feature.bin_of(value) == int(np.searchsorted([1.0, 3.0], value, side="right"))


@pytest.mark.parametrize(("value", "points"), [("own", 10), ("free", -10), ("boat", -2), (None, 0)])
def test_categorical_bins_and_unseen_values(value: str | None, points: int) -> None:
    assert _artefact().by_name["housing"].points_for(value) == points


def test_bands_are_sesame_launch_bands_by_default() -> None:
    artefact = _artefact()
    assert [(b.name, b.lower) for b in artefact.bands] == [
        ("poor", 350),
        ("fair", 550),
        ("good", 600),
        ("very good", 650),
        ("excellent", 700),
    ]
    assert [artefact.band_for(s) for s in (350, 549, 550, 649, 650, 700, 950)] == [
        "poor",
        "poor",
        "fair",
        "good",
        "very good",
        "excellent",
        "excellent",
    ]


def test_error_names_file_and_field(tmp_path: Path) -> None:
    raw = orjson.loads(_artefact().to_json())
    raw["features"][0]["points"] = [1, 2]
    raw["features"][1]["colour"] = "red"
    path = tmp_path / "broken.json"
    path.write_bytes(orjson.dumps(raw))
    with pytest.raises(ArtefactError, match=r"broken\.json: features\.0: .*points has 2 entries"):
        load_artefact(path)
    with pytest.raises(ArtefactError, match=r"features\.1\.colour: Extra inputs"):
        load_artefact(path)


def test_not_json_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{nope")
    with pytest.raises(ArtefactError, match=r"x\.json: not valid JSON"):
        load_artefact(path)
    with pytest.raises(ArtefactError, match=r"absent\.json: cannot read"):
        load_artefact(tmp_path / "absent.json")


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        ({"splits": [3.0, 1.0]}, "strictly ascending"),
        ({"splits": [1.0, math.inf]}, "finite"),
        ({"categories": [["a"]]}, "not categories"),
    ],
)
def test_bad_bins_are_refused(feature: dict[str, object], message: str) -> None:
    base = {
        "name": "f",
        "dimension": "tabular",
        "dtype": "numerical",
        "actionable": True,
        "splits": [1.0, 2.0],
        "points": [1, 2, 3],
        "missing_points": 0,
        "other_points": 0,
    }
    with pytest.raises(ValueError, match=message):
        FeatureScore.model_validate({**base, **feature})


def test_bands_must_ascend_and_cover_the_minimum() -> None:
    with pytest.raises(ValueError, match="strictly ascending"):
        _artefact(bands=[{"name": "a", "lower": 350}, {"name": "b", "lower": 350}])
    with pytest.raises(ValueError, match=r"at or below scaling\.min_score"):
        _artefact(bands=[{"name": "a", "lower": 400}])

"""A small simulated city's training set and a scorecard trained on it, shared by the tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from openscore.scoring.artefact import ScorecardArtefact
from openscore.scoring.estimator import Scorecard
from openscore.scoring.training import TrainingSet

AS_OF = dt.datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def city_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A city of 800 members over 24 months from 2023-01 (events and truth)."""
    from openscore.simulate.config import load_config
    from openscore.simulate.writer import write_city

    out: Path = tmp_path_factory.mktemp("scoring") / "city"
    config = load_config(None, members=800, months=24, seed=5, start=dt.date(2023, 1, 1))
    write_city(config, out)
    return out


@pytest.fixture(scope="session")
def city_set(city_dir: Path) -> TrainingSet:
    from openscore.scoring.cityset import city_training_set

    return city_training_set(AS_OF, 12, city_dir)


@pytest.fixture(scope="session")
def city_artefact(city_set: TrainingSet) -> ScorecardArtefact:
    model = Scorecard(**city_set.params).fit(city_set.frame, city_set.bad)
    return model.to_artefact(
        model_id="sc-20240101T000000Z-00000000",
        kind="city",
        target=city_set.target,
        describe=city_set.describe,
    )


def toy_data(rows: int = 600, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """A fixed tabular set: two numbers (one with gaps), a category, and a 0/1 target."""
    rng = np.random.default_rng(seed)
    income = rng.normal(3000, 900, rows).round(0)
    late = rng.poisson(1.0, rows).astype(float)
    late[rng.random(rows) < 0.1] = np.nan
    housing = rng.choice(["own", "rent", "free"], rows, p=[0.5, 0.4, 0.1])
    logit = -1.2 - 0.0009 * (income - 3000) + 0.7 * np.nan_to_num(late, nan=2.0)
    logit += np.where(housing == "rent", 0.5, 0.0)
    bad = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({"income": income, "late_payments": late, "housing": housing})
    frame["housing"] = frame["housing"].astype(object)
    return frame, bad

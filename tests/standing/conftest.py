"""A city that ends last month and a champion scorecard trained on it (once per session)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from openscore.scoring.artefact import ScorecardArtefact


def _first_of_month(months_back: int) -> dt.date:
    today = dt.datetime.now(dt.UTC).date()
    index = today.year * 12 + today.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


@pytest.fixture(scope="session")
def recent_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 members over the 24 months before this one (so windows reach up to now)."""
    from openscore.simulate.config import load_config
    from openscore.simulate.writer import write_city

    out: Path = tmp_path_factory.mktemp("standing") / "city"
    config = load_config(None, members=300, months=24, seed=5, start=_first_of_month(24))
    write_city(config, out)
    return out


@pytest.fixture(scope="session")
def champion(recent_city: Path) -> ScorecardArtefact:
    """A scorecard trained on the city's first year, defaults in the year after."""
    from openscore.scoring.cityset import city_training_set
    from openscore.scoring.estimator import Scorecard

    start = _first_of_month(12)
    as_of = dt.datetime(start.year, start.month, 1, tzinfo=dt.UTC) - dt.timedelta(microseconds=1)
    training = city_training_set(as_of, 12, recent_city)
    model = Scorecard(**training.params).fit(training.frame, training.bad)
    return model.to_artefact(
        model_id="sc-20260101T000000Z-0000test",
        kind="city",
        target=training.target,
        describe=training.describe,
    )

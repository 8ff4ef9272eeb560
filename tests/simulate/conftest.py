"""Small cities shared by the simulator tests (built once per test process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from openscore.simulate.config import SimulationConfig
from openscore.simulate.engine import CityRun
from openscore.simulate.writer import write_city

#: Rates raised so that a few hundred members in 14 months show every event type.
EVENTFUL: dict[str, dict[str, Any]] = {
    "city": {"members": 500, "months": 14, "seed": 11, "leave_rate": 0.01},
    "credit": {"target_annual_default_rate": 0.3, "default_rate_band": (0.1, 0.45)},
    "courts": {"judgment_delay_days": (31, 45), "monthly_repay_rate": 0.3, "sue_share": 1.0},
    "retractions": {"share": 0.02},
}


def make_config(**sections: dict[str, Any]) -> SimulationConfig:
    """The default config with some keys of some sections replaced."""
    data = SimulationConfig().model_dump()
    for section, values in sections.items():
        data[section] = {**data[section], **values}
    return SimulationConfig.model_validate(data)


@pytest.fixture(scope="session")
def eventful_jsonl(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CityRun]:
    """A small, eventful city written as JSON lines."""
    out = tmp_path_factory.mktemp("jsonl") / "city"
    run, _ = write_city(make_config(**EVENTFUL), out, file_format="jsonl")
    return out, run


@pytest.fixture(scope="session")
def eventful_parquet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CityRun]:
    """The same city written as Parquet."""
    out = tmp_path_factory.mktemp("parquet") / "city"
    run, _ = write_city(make_config(**EVENTFUL), out)
    return out, run

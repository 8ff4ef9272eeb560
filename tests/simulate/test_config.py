"""The configuration: documented defaults, clear errors, a faithful --print-config."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from openscore.simulate.cli import config_text
from openscore.simulate.clock import PeriodError, add_months, check_period, period
from openscore.simulate.config import (
    DEFAULT_CONFIG,
    ConfigError,
    SimulationConfig,
    load_config,
    validate_config,
)


def test_packaged_city_toml_holds_exactly_the_defaults() -> None:
    assert load_config() == SimulationConfig()


def test_every_key_of_city_toml_is_commented() -> None:
    # The packaged file is the documentation of the parameters: no key without a word.
    data = tomllib.loads(DEFAULT_CONFIG.read_text())
    assert set(data) == set(SimulationConfig.model_fields)
    text = DEFAULT_CONFIG.read_text()
    assert text.count("#") > 100


def test_print_config_reads_back_to_the_same_config() -> None:
    config = load_config(members=1234, seed=9, start=dt.date(2022, 3, 1))
    text = config_text(config)
    assert validate_config(tomllib.loads(text), "printed") == config
    assert "members = 1234" in text


def test_overrides_replace_city_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[city]\nmembers = 50\nmonths = 3\n[social]\nhomophily_group = 0.9\n")
    config = load_config(path, months=5, seed=None)
    assert (config.city.members, config.city.months, config.city.seed) == (50, 5, 7)
    assert config.social.homophily_group == 0.9
    assert config.credit == SimulationConfig().credit


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[credit]\ntarget_default = 0.1\n", r"credit\.target_default: unknown key"),
        ("[citty]\nmembers = 5\n", r"citty: unknown key"),
        (
            "[social]\nhomophily_group = 1.5\n",
            r"social\.homophily_group: .*less than or equal to 1",
        ),
        ("[population]\ngroup_shares = [0.5, 0.2]\n", r"population: group_shares must add up to 1"),
        ('[income]\ndisadvantaged_group = "Z"\n', r"disadvantaged_group 'Z' is not one of"),
        ("[spending.category_weights]\nfood = 1.0\n", r"unknown \['food'\]"),
        ('[rentals]\nrogue_partner = "nobody"\n', r"rogue_partner 'nobody' is not one of"),
        ("[city]\nstart = 2023-01-15\n", r"must be the first day of a month"),
        ("[credit]\ntarget_annual_default_rate = 0.2\n", r"inside default_rate_band"),
        ("[courts]\njudgment_delay_days = [90, 60]\n", r"must not exceed"),
        ("[city\nmembers = 5\n", r"not valid TOML"),
    ],
)
def test_bad_config_names_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as error:
        load_config(path)
    assert str(path) in str(error.value)


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.toml")


class TestPeriod:
    def test_months_are_calendar_months(self) -> None:
        months = period(dt.date(2023, 11, 1), 4)
        assert [m.label for m in months] == ["2023-11", "2023-12", "2024-01", "2024-02"]
        assert [m.days for m in months] == [30, 31, 31, 29]
        assert add_months(dt.date(2023, 1, 1), 24) == dt.date(2025, 1, 1)

    def test_a_period_ending_in_the_future_is_refused(self) -> None:
        now = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
        check_period(dt.date(2023, 1, 1), 46, now)  # ends 2026-11-01: fine
        with pytest.raises(PeriodError, match=r"ends on 2026-12-01 .* after today \(2026-11-24\)"):
            check_period(dt.date(2023, 1, 1), 47, now)

"""The model registry: order of models, the champion, the latest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openscore.scoring import registry
from tests.scoring.handmade import artefact_from, feature_entry

SECOND = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


def _register(directory: Path, model_id: str, created_at: dt.datetime) -> None:
    entries = [feature_entry("on_time_share_12m", [0.5, 0.9], [-10, 0, 10])]
    artefact = artefact_from(entries, model_id=model_id, created_at=created_at)
    registry.register(artefact, "# Model card\n", {"model_id": model_id}, directory)


def test_models_trained_within_one_second_keep_their_order(tmp_path: Path) -> None:
    # Both ids carry the same second; the later one's hash happens to sort first.
    _register(tmp_path, "sc-20260301T120000Z-ffffffff", SECOND.replace(microsecond=10))
    _register(tmp_path, "sc-20260301T120000Z-00000000", SECOND.replace(microsecond=20))
    assert registry.model_ids(tmp_path) == [
        "sc-20260301T120000Z-ffffffff",
        "sc-20260301T120000Z-00000000",
    ]
    assert registry.latest_id(tmp_path) == "sc-20260301T120000Z-00000000"
    assert registry.champion_id(tmp_path) == "sc-20260301T120000Z-ffffffff"


def test_an_empty_registry(tmp_path: Path) -> None:
    assert registry.model_ids(tmp_path / "none") == []
    assert registry.latest_id(tmp_path / "none") is None
    assert registry.champion_id(tmp_path / "none") is None

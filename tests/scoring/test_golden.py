"""Golden files: a fixed training set's artefact and reason codes, compared byte for byte.

Regenerate only on purpose: ``OPENSCORE_REGEN_GOLDEN=1 pytest tests/scoring/test_golden.py``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import orjson
import pytest

from openscore.scoring.estimator import Scorecard
from openscore.scoring.scorer import score_features
from tests.scoring.conftest import toy_data

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("OPENSCORE_REGEN_GOLDEN") == "1"


def _compare(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.write_bytes(data)
        return
    assert path.exists(), f"{path} is missing: run with OPENSCORE_REGEN_GOLDEN=1 once"
    assert data.decode() == path.read_text(encoding="utf-8")


def test_golden_artefact_and_reasons() -> None:
    frame, bad = toy_data()
    model = Scorecard().fit(frame, bad)
    artefact = model.to_artefact(
        model_id="sc-20240101T000000Z-golden00",
        kind="tabular",
        target="bad",
        created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    )
    _compare("toy_artefact.json", artefact.to_json())
    rows = frame.head(12).astype(object).where(frame.head(12).notna(), None)
    reasons = [
        {
            "row": i,
            "score": (result := score_features(artefact, row)).score,
            "band": result.band,
            "subscores": result.subscores_dict(),
            "reasons": result.reasons_list(),
        }
        for i, row in enumerate(rows.to_dict(orient="records"))
    ]
    _compare("toy_reasons.json", orjson.dumps(reasons, option=orjson.OPT_INDENT_2) + b"\n")
    if REGENERATE:
        pytest.skip(f"regenerated the golden files in {GOLDEN}")

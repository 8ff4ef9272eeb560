"""Scoring: the scorecard, its artefact, explanations, the registry and score records.

The names below are imported on first use, so that scoring one member (artefact and
reference scorer) never loads scikit-learn or OptBinning.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openscore.scoring.artefact import (
        ScorecardArtefact,
        load_artefact,
        save_artefact,
    )
    from openscore.scoring.estimator import Scorecard
    from openscore.scoring.registry import champion, load_model
    from openscore.scoring.scorer import ScoreResult, score_features
    from openscore.scoring.whatif import what_can_i_do, whatif

_EXPORTS = {
    "ScorecardArtefact": "openscore.scoring.artefact",
    "load_artefact": "openscore.scoring.artefact",
    "save_artefact": "openscore.scoring.artefact",
    "Scorecard": "openscore.scoring.estimator",
    "champion": "openscore.scoring.registry",
    "load_model": "openscore.scoring.registry",
    "ScoreResult": "openscore.scoring.scorer",
    "score_features": "openscore.scoring.scorer",
    "what_can_i_do": "openscore.scoring.whatif",
    "whatif": "openscore.scoring.whatif",
}

__all__ = [
    "ScoreResult",
    "Scorecard",
    "ScorecardArtefact",
    "champion",
    "load_artefact",
    "load_model",
    "save_artefact",
    "score_features",
    "what_can_i_do",
    "whatif",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'openscore.scoring' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

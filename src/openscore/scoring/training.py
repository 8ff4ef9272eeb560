"""Fit a scorecard on a training set, measure it on a hold-out, and register it with its card.

The same path serves the city (features from the ledger, labels from defaults) and any
tabular data set (a CSV): a stratified hold-out, the estimator fitted on the rest, metrics
on both, a content-addressed model id, the artefact and the model card written to the
registry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.model_selection import train_test_split

from openscore.scoring import metrics, registry
from openscore.scoring.artefact import ScorecardArtefact
from openscore.scoring.card import build_card, render_markdown
from openscore.scoring.estimator import Scorecard

#: Told what is happening: a step's name.
Step = Callable[[str], None]


@dataclass
class TrainingSet:
    """Features (one row per member or record), the bad flag, and how they were made."""

    frame: pd.DataFrame
    bad: NDArray[np.bool_]
    target: str
    kind: str
    describe: dict[str, dict[str, Any]] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingResult:
    artefact: ScorecardArtefact
    card: dict[str, Any]
    path: Path


def fingerprint(frame: pd.DataFrame, bad: NDArray[np.bool_]) -> str:
    """sha256 of the training data: column names, then every row's hash, then the labels."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(np.asarray(bad, dtype=np.uint8).tobytes())
    return digest.hexdigest()


def _check(training: TrainingSet, holdout: float) -> None:
    bads = int(training.bad.sum())
    goods = len(training.bad) - bads
    if min(bads, goods) < 10 or min(bads, goods) * holdout < 2:
        raise ValueError(
            f"too few of one class to train and hold out: {bads} bad, {goods} good "
            "(at least 10 of each)"
        )


def train_and_register(
    training: TrainingSet,
    *,
    holdout: float = 0.3,
    random_state: int = 42,
    directory: Path | None = None,
    step: Step | None = None,
    estimator_params: Mapping[str, Any] | None = None,
) -> TrainingResult:
    """Split, fit, measure and register; the first model registered becomes champion."""
    tell = step or (lambda _name: None)
    _check(training, holdout)
    tell("hold-out split")
    train_x, test_x, train_y, test_y = train_test_split(
        training.frame,
        training.bad,
        test_size=holdout,
        stratify=training.bad,
        random_state=random_state,
    )
    tell(f"binning and fitting on {len(train_x):,} rows")
    params = {**training.params, **(estimator_params or {})}
    model = Scorecard(**params).fit(train_x, train_y)
    tell(f"measuring on {len(test_x):,} hold-out rows")
    test_scores = model.scores(test_x)
    train_scores = model.scores(train_x)
    created = dt.datetime.now(dt.UTC)
    measured = {
        "holdout": {
            **metrics.discrimination(test_y, model.total_points(test_x)),
            "rows": len(test_x),
            "bad_rate": round(float(np.mean(test_y)), 6),
        },
        "train": {
            **metrics.discrimination(train_y, model.total_points(train_x)),
            "rows": len(train_x),
            "bad_rate": round(float(np.mean(train_y)), 6),
        },
        "band_shares": {},
    }
    provisional = model.to_artefact(
        model_id="sc-provisional",
        kind=training.kind,
        target=training.target,
        created_at=created,
        describe=training.describe,
        metrics=measured,
        fingerprint=fingerprint(training.frame, training.bad),
        training={**training.data, "params": _jsonable(model.get_params())},
    )
    shares = metrics.band_shares(provisional, test_scores)
    provisional = provisional.model_copy(update={"metrics": {**measured, "band_shares": shares}})
    model_id = registry.new_model_id(created, provisional.to_json())
    artefact = ScorecardArtefact.model_validate({**provisional.model_dump(), "model_id": model_id})
    tell("writing the model card")
    previous = registry.champion(directory)
    card = build_card(
        artefact,
        data={
            **training.data,
            "train_rows": len(train_x),
            "train_scores_mean": float(np.mean(train_scores)),
        },
        holdout_scores=test_scores,
        holdout_bad=np.asarray(test_y),
        champion=previous,
        champion_scores=_champion_scores(previous, test_x),
    )
    path = registry.register(artefact, render_markdown(card), card, directory)
    return TrainingResult(artefact, card, path)


def _champion_scores(
    champion: ScorecardArtefact | None, frame: pd.DataFrame
) -> NDArray[np.int64] | None:
    if champion is None or any(f.name not in frame.columns for f in champion.features):
        return None
    return Scorecard.from_artefact(champion).scores(frame)


def _jsonable(params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in params.items()
        if isinstance(v, str | int | float | bool | list | dict | type(None))
    }

"""Hand-made scorecards, features and score records for page tests (no training needed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openscore.scoring.artefact import FeatureScore, ScorecardArtefact
from openscore.scoring.records import ScoreRecordOut, features_hash
from openscore.scoring.scorer import score_features

AS_OF = dt.datetime(2025, 12, 31, tzinfo=dt.UTC)


def feature(
    name: str, dimension: str, splits: list[float], points: list[int], **extra: Any
) -> FeatureScore:
    return FeatureScore(
        name=name,
        dimension=dimension,  # type: ignore[arg-type]
        dtype="numerical",
        direction=extra.pop("direction", "higher_is_better"),
        actionable=extra.pop("actionable", True),
        description=extra.pop("description", f"The {name.replace('_', ' ')}."),
        kind=extra.pop("kind", "float64"),
        splits=splits,
        points=points,
        missing_points=extra.pop("missing_points", min(points)),
        other_points=min(points),
        **extra,
    )


def artefact() -> ScorecardArtefact:
    """Five dimensions, one or two features each; totals run from 420 to 790."""
    return ScorecardArtefact(
        model_id="sc-test-0001",
        kind="city",
        created_at=AS_OF,
        target="default_12m",
        intercept_points=560,
        features=[
            feature(
                "on_time_share_12m",
                "credit_history",
                [0.8, 0.95],
                [-40, 20, 90],
                description="Share of your bills paid by the due date.",
            ),
            feature(
                "open_judgments",
                "credit_history",
                [1],
                [30, -60],
                kind="int64",
                direction="higher_is_worse",
            ),
            feature(
                "defaults_5y",
                "credit_history",
                [1],
                [20, -50],
                kind="int64",
                direction="higher_is_worse",
                actionable=False,
            ),
            feature(
                "spending_volatility_12m",
                "behaviour",
                [0.3, 0.6],
                [40, 10, -20],
                direction="higher_is_worse",
            ),
            feature(
                "debt_to_income",
                "ability_to_pay",
                [0.2, 0.4],
                [50, 15, -30],
                direction="higher_is_worse",
            ),
            feature(
                "identity_verified",
                "identity_stability",
                [1],
                [-10, 40],
                kind="int64",
                actionable=False,
            ),
            feature("connections_count", "connections", [3], [0, 20], kind="int64"),
        ],
    )


GOOD = {
    "on_time_share_12m": 0.99,
    "open_judgments": 0,
    "defaults_5y": 0,
    "spending_volatility_12m": 0.2,
    "debt_to_income": 0.1,
    "identity_verified": 1,
    "connections_count": 5,
}
STRUGGLING = {
    "on_time_share_12m": 0.7,
    "open_judgments": 1,
    "defaults_5y": 1,
    "spending_volatility_12m": 0.5,
    "debt_to_income": 0.5,
    "identity_verified": 1,
    "connections_count": 1,
}


def records(member_id: str, features: dict[str, Any], months: int = 4) -> list[ScoreRecordOut]:
    """A history (newest first) ending at the score of ``features``, a little lower before."""
    card = artefact()
    result = score_features(card, features)
    out = []
    for back in range(months):
        score = result.score - 12 * back
        out.append(
            ScoreRecordOut(
                score_id=100 - back,
                member_id=member_id,
                as_of=AS_OF - dt.timedelta(days=30 * back),
                score=score,
                band=card.band_for(score),
                model_version=card.model_id,
                features_hash=features_hash(features),
                subscores=result.subscores_dict(),
                reasons=[
                    {
                        **r.as_dict(),
                        "evidence": [
                            {
                                "occurred_at": "2025-11-02T10:00:00+00:00",
                                "type": "bill_paid",
                                "source": "partner:power",
                                "event_id": f"e-{r.feature}",
                            }
                        ],
                    }
                    for r in result.reasons
                ],
                cause="batch:test",
                computed_at=AS_OF,
            )
        )
    return out

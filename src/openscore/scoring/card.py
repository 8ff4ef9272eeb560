"""The model card: what a model was trained on, how well it separates, and how it scores.

Built as JSON (the web pages read it) and rendered as Markdown (people read it). It holds the
data window and population, sample sizes and bad rates, AUC/KS/Gini on the hold-out, every
feature's information value and bins with their points, the share of hold-out scores per band,
and the population stability index against the previous champion when there is one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from openscore.scoring import metrics
from openscore.scoring.artefact import ScorecardArtefact


def feature_table(artefact: ScorecardArtefact) -> list[dict[str, Any]]:
    """Each feature's information value and bins with their points (missing last)."""
    rows = []
    for feature in artefact.features:
        bins = [
            {
                "label": summary.label,
                "count": summary.count,
                "event_rate": summary.event_rate,
                "woe": round(summary.woe, 4),
                "points": points,
            }
            for summary, points in zip(feature.bins, feature.points, strict=False)
        ]
        rows.append(
            {
                "name": feature.name,
                "dimension": feature.dimension,
                "iv": feature.iv,
                "actionable": feature.actionable,
                "bins": bins,
                "missing_points": feature.missing_points,
                "other_points": feature.other_points,
            }
        )
    return sorted(rows, key=lambda row: -float(row["iv"]))


def build_card(
    artefact: ScorecardArtefact,
    *,
    data: dict[str, Any],
    holdout_scores: NDArray[np.int64],
    holdout_bad: NDArray[np.bool_],
    champion: ScorecardArtefact | None = None,
    champion_scores: NDArray[np.int64] | None = None,
) -> dict[str, Any]:
    """The card as JSON-ready data (see the module docstring)."""
    shares = metrics.band_shares(artefact, holdout_scores)
    stability: dict[str, Any] | None = None
    if champion is not None:
        if champion_scores is not None:
            before = metrics.band_shares(artefact, champion_scores)
            basis = "champion's scores on this hold-out"
        else:
            before = _card_shares(champion)
            basis = "champion's own hold-out band shares"
        stability = {
            "champion": champion.model_id,
            "psi": metrics.psi(
                [before.get(b.name, 0.0) for b in artefact.bands],
                [shares[b.name] for b in artefact.bands],
            ),
            "basis": basis,
            "champion_band_shares": before,
        }
    return {
        "model_id": artefact.model_id,
        "kind": artefact.kind,
        "target": artefact.target,
        "created_at": artefact.created_at.isoformat(),
        "data": data,
        "holdout": artefact.metrics.get("holdout", {}),
        "train": artefact.metrics.get("train", {}),
        "scaling": artefact.scaling.model_dump(),
        "intercept_points": artefact.intercept_points,
        "band_shares": shares,
        "deciles": metrics.deciles(holdout_scores) if len(holdout_scores) else [],
        "stability": stability,
        "features": feature_table(artefact),
        "fingerprint": artefact.fingerprint,
    }


def _card_shares(champion: ScorecardArtefact) -> dict[str, float]:
    shares = champion.metrics.get("band_shares", {})
    return {str(k): float(v) for k, v in shares.items()}


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f}%"


def render_markdown(card: dict[str, Any]) -> str:
    """The card for people."""
    data, holdout = card["data"], card["holdout"]
    lines = [
        f"# Model card: {card['model_id']}",
        "",
        f"A {card['kind']} scorecard for `{card['target']}`, trained {card['created_at']}.",
        "",
        "## Data",
        "",
        *(f"- **{key.replace('_', ' ')}**: {value}" for key, value in data.items()),
        "",
        "## Hold-out performance",
        "",
        "| AUC | KS | Gini | rows | bad rate |",
        "|---|---|---|---|---|",
        f"| {holdout.get('auc')} | {holdout.get('ks')} | {holdout.get('gini')} "
        f"| {holdout.get('rows')} | {_pct(holdout.get('bad_rate'))} |",
        "",
        "## Scores per band (hold-out)",
        "",
        "| band | share |",
        "|---|---|",
        *(f"| {band} | {_pct(share)} |" for band, share in card["band_shares"].items()),
        "",
    ]
    stability = card.get("stability")
    if stability:
        lines += [
            f"Population stability index against the previous champion "
            f"`{stability['champion']}`: **{stability['psi']}** ({stability['basis']}).",
            "",
        ]
    else:
        lines += ["No previous champion: no population stability index.", ""]
    scaling = card["scaling"]
    lines += [
        "## Scaling",
        "",
        f"{scaling['base_score']:g} points at good:bad odds of {scaling['base_odds']:g}:1, "
        f"{scaling['pdo']:g} points to double the odds, clipped to "
        f"{scaling['min_score']}–{scaling['max_score']}; intercept {card['intercept_points']} "
        "points.",
        "",
        "## Features (by information value)",
        "",
    ]
    for feature in card["features"]:
        lines += [
            f"### `{feature['name']}` ({feature['dimension']}, IV {feature['iv']:.3f}"
            f"{'' if feature['actionable'] else ', not actionable'})",
            "",
            "| bin | count | bad rate | WoE | points |",
            "|---|---|---|---|---|",
            *(
                f"| {b['label']} | {b['count']} | {_pct(b['event_rate'])} | {b['woe']} "
                f"| {b['points']} |"
                for b in feature["bins"]
            ),
            f"| missing | | | | {feature['missing_points']} |",
            "",
        ]
    return "\n".join(lines)

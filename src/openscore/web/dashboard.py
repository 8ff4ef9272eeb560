"""The member's overview page as a view model: from score records, the model and features.

The score, sub-scores and reasons shown are the member's latest score record, exactly as
stored. What-if and what-can-I-do need the member's feature values now and the model; the
what-if answer is always compared with the score those same values give, so a change of
zero moves nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from openscore.scoring.artefact import DEFAULT_BANDS, FeatureScore, ScorecardArtefact, Value
from openscore.scoring.display import is_money
from openscore.scoring.records import ScoreRecordOut
from openscore.scoring.scorer import score_features
from openscore.scoring.targets import Target, better_targets
from openscore.scoring.whatif import WhatIfError, what_can_i_do, whatif
from openscore.web import charts
from openscore.web.views import (
    BandView,
    ChangeView,
    DashboardView,
    HistoryRow,
    PlanView,
    ReasonView,
    ScoreView,
    StepView,
    WhatIfInput,
    WhatIfOutcome,
    band_views,
    dimension_views,
    evidence_views,
    feature_title,
    find_band,
)

#: Sliders shown up front; the rest of the actionable features are one click away.
FIRST_SLIDERS = 6


def bands_of(artefact: ScorecardArtefact | None) -> list[BandView]:
    if artefact is None:
        return band_views(DEFAULT_BANDS, 950)
    pairs = [(band.name, band.lower) for band in artefact.bands]
    return band_views(pairs, artefact.scaling.max_score)


def _nice_step(span: float) -> float:
    """A 1-2-5 step giving about a hundred positions over ``span``."""
    raw = span / 100
    power = 10.0 ** math.floor(math.log10(raw))
    for multiple in (1.0, 2.0, 5.0):
        if raw <= multiple * power:
            return multiple * power
    return 10.0 * power


def slider_for(feature: FeatureScore, value: Value) -> WhatIfInput:
    """A slider over every bin of a numerical feature, starting at the member's value."""
    current = None if value is None or isinstance(value, str) else value
    if isinstance(current, float) and math.isnan(current):
        current = None
    splits = feature.splits or [0.0]
    seen = [*splits, *([current] if current is not None else [])]
    low, high = min(seen), max(seen)
    whole = feature.kind == "int64"
    money = is_money(feature)
    if low >= 0 and high <= 1 and not whole:
        minimum, maximum, step = 0.0, 1.0, 0.01
    else:
        span = (high - low) or max(abs(high), 1.0)
        # Counts move by one; money (in cents) by a round amount, not a cent at a time.
        step = 1.0 if whole and not money else max(1.0, _nice_step(span * 1.5))
        minimum = math.floor((low - span / 4) / step) * step
        if low >= 0:
            minimum = max(minimum, 0.0)
        maximum = math.ceil((high + span / 4) / step) * step
        if money and current is not None:
            # The browser snaps a range's value to minimum + k * step; anchor the grid at
            # the member's own amount, or an untouched slider would send a changed value.
            minimum = current - math.ceil((current - minimum) / step) * step
            if low >= 0 and minimum < 0:
                minimum += step * math.ceil(-minimum / step)
            maximum = current + math.ceil((maximum - current) / step) * step
    start = minimum if current is None else current

    def shown(number: float) -> float | int:
        return round(number) if whole or float(number).is_integer() else round(number, 6)

    return WhatIfInput(
        name=feature.name,
        title=feature_title(feature.name),
        description=feature.description,
        current=current,
        start=shown(start),
        value=shown(start),
        minimum=shown(minimum),
        maximum=shown(maximum),
        step=shown(step),
        better="down" if feature.direction == "higher_is_worse" else "up",
        money=money,
    )


def whatif_sliders(
    artefact: ScorecardArtefact, features: Mapping[str, Value], chosen: Mapping[str, Value]
) -> list[WhatIfInput]:
    """Sliders for the actionable numerical features, most points to gain first."""
    now = score_features(artefact, features, reasons=0)
    actionable = [
        f for f in artefact.features if f.actionable and f.dtype == "numerical" and f.splits
    ]
    actionable.sort(key=lambda f: (now.points[f.name] - f.best_points, f.name))
    sliders = []
    for feature in actionable:
        slider = slider_for(feature, features.get(feature.name))
        if feature.name in chosen and chosen[feature.name] is not None:
            slider = _moved(slider, chosen[feature.name])
        sliders.append(slider)
    return sliders


def _moved(slider: WhatIfInput, value: Value) -> WhatIfInput:
    assert isinstance(value, int | float)
    return replace(slider, value=value)


def _untouched(raw: str, form: Mapping[str, str], name: str) -> bool:
    """Whether ``raw`` is the slider's start as the browser snapped it to the slider's grid.

    A range input holds only ``minimum + k * step``: a member's 0.9123 on a 0.01 grid is
    sent back as 0.91 by a slider nobody touched, which is no change. The form carries each
    slider's start and grid (``grid.<name>`` = "minimum step"); anything that does not
    parse is left to the caller's checks.
    """
    try:
        value, start = float(raw), float(form[f"start.{name}"])
        minimum, step = (float(part) for part in form[f"grid.{name}"].split())
    except (KeyError, ValueError):
        return False
    if not (step > 0 and all(map(math.isfinite, (value, start, minimum, step)))):
        return False
    # The browser rounds to the nearest grid point; a start exactly between two may go
    # either way, so both count.
    steps = (start - minimum) / step
    candidates = {math.floor(steps), math.ceil(steps)}
    snapped = [minimum + k * step for k in candidates if abs(steps - k) <= 0.5 + 1e-9]
    return any(math.isclose(value, point, rel_tol=1e-9, abs_tol=step * 1e-6) for point in snapped)


def parse_whatif_form(
    artefact: ScorecardArtefact, form: Mapping[str, str]
) -> tuple[dict[str, Value], list[str]]:
    """The changes a what-if form asks for (sliders moved from their start), and errors."""
    changes: dict[str, Value] = {}
    errors: list[str] = []
    for key, raw in form.items():
        if not key.startswith("set."):
            continue
        name = key.removeprefix("set.")
        if raw == form.get(f"start.{name}") or _untouched(raw, form, name):
            continue
        feature = artefact.by_name.get(name)
        if feature is None:
            errors.append(f"{name}: not a feature of model {artefact.model_id}")
            continue
        try:
            number = float(raw)
        except ValueError:
            errors.append(f"{feature_title(name)}: {raw!r} is not a number")
            continue
        if not math.isfinite(number):
            errors.append(f"{feature_title(name)}: {raw!r} is not a finite number")
            continue
        changes[name] = int(number) if feature.kind == "int64" else number
    return changes, errors


def whatif_outcome(
    artefact: ScorecardArtefact,
    features: Mapping[str, Value],
    changes: Mapping[str, Value],
    bands: Sequence[BandView],
) -> WhatIfOutcome:
    """The score with ``changes``, its band and the difference from the score now."""
    try:
        answer = whatif(artefact, features, changes)
    except WhatIfError as error:
        now = score_features(artefact, features, reasons=0)
        return WhatIfOutcome(now.score, find_band(bands, now.band), 0, [], str(error))
    listed = [
        ChangeView(feature_title(c.feature), _text(c.before), _text(c.after), c.points)
        for c in answer.changes
    ]
    band = find_band(bands, answer.after.band)
    return WhatIfOutcome(answer.after.score, band, answer.delta, listed)


def _text(value: Value) -> str:
    if value is None:
        return "nothing recorded"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _condition(step: Target) -> str:
    if step.op == ">=":
        return f"at least {step.bound:g}"
    if step.op == "<":
        return f"below {step.bound:g}"
    assert isinstance(step.bound, list)
    return "one of " + ", ".join(step.bound)


def plan_view(
    artefact: ScorecardArtefact, features: Mapping[str, Value], bands: Sequence[BandView]
) -> PlanView:
    plan = what_can_i_do(artefact, features)
    steps = [StepView(feature_title(s.feature), _condition(s), s.gain) for s in plan.steps]
    upper = find_band(bands, plan.band) if plan.band is not None else None
    return PlanView(upper, plan.points_needed, steps, plan.reachable)


def advice_for(artefact: ScorecardArtefact, features: Mapping[str, Value]) -> dict[str, str]:
    """For each actionable reason, the best-paying better bin in plain words."""
    now = score_features(artefact, features)
    advice = {}
    for reason in now.reasons:
        feature = artefact.by_name[reason.feature]
        if not reason.actionable:
            continue
        targets = better_targets(feature, features.get(feature.name))
        if targets:
            best = max(targets, key=lambda t: (t.gain, -t.distance))
            advice[reason.feature] = (
                f"{feature_title(feature.name)} {_condition(best)} "
                f"would earn {best.gain} more points."
            )
    return advice


def reason_views(
    record: ScoreRecordOut,
    advice: Mapping[str, str],
    evidence: Mapping[str, Sequence[Mapping[str, Any]]],
) -> list[ReasonView]:
    """The record's reasons; evidence from the record, else from ``evidence`` by feature."""
    return [
        ReasonView(
            feature=reason.feature,
            title=feature_title(reason.feature),
            sentence=reason.sentence,
            points_below_best=reason.points_below_best,
            evidence=evidence_views(reason.evidence or evidence.get(reason.feature, [])),
            advice=advice.get(reason.feature),
        )
        for reason in record.reasons
    ]


def build_dashboard(
    name: str,
    history: Sequence[ScoreRecordOut],
    artefact: ScorecardArtefact | None,
    features: Mapping[str, Value] | None,
    *,
    evidence: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    changes: Mapping[str, Value] | None = None,
    errors: Sequence[str] = (),
) -> DashboardView:
    """Everything the overview shows; ``history`` newest first, ``changes`` from a what-if."""
    bands = bands_of(artefact)
    view = DashboardView(name=name, score=None, bands=bands)
    if not history:
        return view
    latest = history[0]
    band = find_band(bands, latest.band)
    view.score = ScoreView(latest.score, band, latest.as_of, latest.model_version, latest.cause)
    view.dimensions = dimension_views({k: v.model_dump() for k, v in latest.subscores.items()})
    view.history = [
        HistoryRow(r.as_of, r.score, find_band(bands, r.band), r.cause) for r in history
    ]
    advice: dict[str, str] = {}
    if artefact is not None and features is not None:
        advice = advice_for(artefact, features)
        sliders = whatif_sliders(artefact, features, changes or {})
        view.whatif_inputs = sliders[:FIRST_SLIDERS]
        view.whatif_more = sliders[FIRST_SLIDERS:]
        view.plan = plan_view(artefact, features, bands)
        if changes is not None or errors:
            outcome = whatif_outcome(artefact, features, changes or {}, bands)
            if errors:
                outcome = WhatIfOutcome(outcome.score, outcome.band, 0, [], "; ".join(errors))
            view.whatif = outcome
    view.reasons = reason_views(latest, advice, evidence or {})
    view.charts = dashboard_charts(view, artefact)
    return view


def dashboard_charts(view: DashboardView, artefact: ScorecardArtefact | None) -> dict[str, Any]:
    assert view.score is not None
    chart_bands = [charts.Band(b.name, b.lower) for b in view.bands]
    low = artefact.scaling.min_score if artefact else 350
    high = artefact.scaling.max_score if artefact else 950
    return {
        "gauge": charts.gauge(
            view.score.score, view.score.band.name, chart_bands, min_score=low, max_score=high
        ),
        "radar": charts.radar([(d.label, d.scale) for d in view.dimensions]),
        "history": charts.history(
            [(row.as_of, row.score) for row in view.history],
            chart_bands,
            min_score=low,
            max_score=high,
        ),
    }

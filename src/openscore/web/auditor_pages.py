"""The auditor's page: a model card (metrics, bins and points, stability, bands) with charts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from openscore.accounts.schemas import Role
from openscore.api.deps import DbSession, UnitOfWorkRoute
from openscore.scoring import registry
from openscore.web import charts
from openscore.web.common import PostedForm, page, render, signed_in_holder, state_of
from openscore.web.keysession import KeySignInFailed, sign_in_with_key, sign_out_key
from openscore.web.views import NavItem, band_views, feature_title

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)


@dataclass
class FeatureCard:
    name: str
    title: str
    dimension: str
    iv: float
    actionable: bool
    bins: list[dict[str, Any]]
    missing_points: int
    chart: charts.Chart


@dataclass
class AuditorView:
    signed_in: bool
    errors: list[str] = field(default_factory=list)
    models: list[registry.ModelEntry] = field(default_factory=list)
    card: dict[str, Any] | None = None
    bands: list[Any] = field(default_factory=list)
    features: list[FeatureCard] = field(default_factory=list)
    charts: dict[str, charts.Chart] = field(default_factory=dict)


def card_view(view: AuditorView, card: dict[str, Any], band_pairs: list[tuple[str, int]]) -> None:
    """Fill ``view`` from a model card (the registry's JSON) and its model's bands."""
    view.card = card
    view.bands = band_views(band_pairs, int(card["scaling"]["max_score"]))
    chart_bands = [charts.Band(name, lower) for name, lower in band_pairs]
    shares = [(name, float(share)) for name, share in card["band_shares"].items()]
    view.charts = {
        "bands": charts.band_shares(shares, chart_bands),
        "iv": charts.information_values([(f["name"], float(f["iv"])) for f in card["features"]]),
    }
    view.features = [
        FeatureCard(
            name=f["name"],
            title=feature_title(f["name"]),
            dimension=f["dimension"],
            iv=float(f["iv"]),
            actionable=bool(f["actionable"]),
            bins=f["bins"],
            missing_points=int(f["missing_points"]),
            chart=charts.bin_points(
                f["name"],
                [b["label"] for b in f["bins"]] + ["missing"],
                [int(b["points"]) for b in f["bins"]] + [int(f["missing_points"])],
                [float(b["event_rate"] or 0.0) for b in f["bins"]] + [0.0],
            ),
        )
        for f in card["features"]
    ]


def _render(request: Request, view: AuditorView, status: int = 200) -> Response:
    context = page(
        request,
        "Model card",
        nav=[NavItem("Model card", "/auditor", True)],
        signed_in_as="auditor" if view.signed_in else None,
        signout_href="/auditor/signout",
        charts=view.card is not None,
    )
    return render(request, "auditor.html", context, view, status)


@router.get("/auditor", response_class=HTMLResponse)
def auditor(request: Request, db: DbSession, model: str | None = None) -> Response:
    found = signed_in_holder(request, db)
    if found is None or found[0].role is not Role.auditor:
        return _render(request, AuditorView(signed_in=False))
    directory = registry.models_dir(state_of(request).settings)
    view = AuditorView(signed_in=True, models=registry.list_models(directory))
    chosen = model or registry.champion_id(directory)
    if chosen is None:
        return _render(request, view)
    try:
        artefact = registry.load_model(chosen, directory)
        card = registry.load_card(chosen, directory)
    except registry.UnknownModelError as problem:
        view.errors = [str(problem)]
        return _render(request, view, 404)
    card_view(view, card, [(b.name, b.lower) for b in artefact.bands])
    return _render(request, view)


@router.post("/auditor/signin", response_class=HTMLResponse)
def auditor_signin(request: Request, db: DbSession, posted: PostedForm) -> Response:
    try:
        return sign_in_with_key(request, db, posted, Role.auditor, "/auditor")
    except KeySignInFailed as problem:
        return _render(request, AuditorView(signed_in=False, errors=[str(problem)]), problem.status)


@router.post("/auditor/signout")
def auditor_signout(posted: PostedForm) -> Response:
    return sign_out_key(posted, "/auditor")

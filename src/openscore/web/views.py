"""View models: what each page shows, as plain values, built from the domain's objects.

Templates only read these; nothing here touches HTTP or the store, so every page can be
rendered and tested from hand-made data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openscore.features.rules import SCORING_CURRENCY
from openscore.scoring.display import LOCALE, minor_unit_digits, money_text
from openscore.web.charts import Band, band_colour, band_label

DIMENSION_LABELS: dict[str, str] = {
    "credit_history": "Credit history",
    "behaviour": "Behaviour",
    "ability_to_pay": "Ability to pay",
    "identity_stability": "Identity & stability",
    "connections": "Connections",
    "tabular": "All features",
}

_WINDOW = re.compile(r"_(\d+)([my])$")


def feature_title(name: str) -> str:
    """A feature's name as a heading: ``on_time_share_12m`` -> ``On time share (12 months)``."""
    window = ""
    match = _WINDOW.search(name)
    if match:
        unit = "months" if match.group(2) == "m" else "years"
        window = f" ({match.group(1)} {unit})"
        name = name[: match.start()]
    return name.replace("_", " ").capitalize() + window


def event_title(event_type: str) -> str:
    """An event type as a reader sees it: ``installment_paid`` -> ``Installment paid``."""
    return event_type.replace("_", " ").capitalize()


def band_slug(name: str) -> str:
    """A band name as a CSS class part: ``very good`` -> ``very-good``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    current: bool = False


@dataclass(frozen=True, slots=True)
class Message:
    """A one-line notice at the top of a page: ``ok`` or ``error``."""

    kind: str
    text: str


@dataclass(slots=True)
class PageContext:
    """What the layout needs on every page."""

    title: str
    csrf_token: str
    nav: list[NavItem] = field(default_factory=list)
    signed_in_as: str | None = None
    signout_href: str = "/signout"
    messages: list[Message] = field(default_factory=list)
    charts: bool = False


MEMBER_NAV = (
    ("Overview", "/me"),
    ("Consents", "/me/consents"),
    ("Who looked", "/me/access"),
    ("My records", "/me/records"),
)


def member_nav(current: str) -> list[NavItem]:
    return [NavItem(label, href, href == current) for label, href in MEMBER_NAV]


@dataclass(frozen=True, slots=True)
class BandView:
    name: str
    label: str
    slug: str
    lower: int
    upper: int
    colour: str


def band_views(bands: Sequence[tuple[str, int]], max_score: int) -> list[BandView]:
    """Each band with its range (``upper`` is the last score in it) and colour."""
    chart_bands = [Band(name, lower) for name, lower in bands]
    uppers = [lower - 1 for _, lower in bands[1:]] + [max_score]
    return [
        BandView(
            name, band_label(name), band_slug(name), lower, upper, band_colour(chart_bands, name)
        )
        for (name, lower), upper in zip(bands, uppers, strict=True)
    ]


def find_band(bands: Sequence[BandView], name: str) -> BandView:
    for band in bands:
        if band.name == name:
            return band
    # A record scored under bands since renamed still shows, uncoloured.
    return BandView(name, band_label(name), band_slug(name), 0, 0, "#52606d")


@dataclass(frozen=True, slots=True)
class DimensionView:
    key: str
    label: str
    points: int
    scale: float


def dimension_views(subscores: Mapping[str, Mapping[str, Any]]) -> list[DimensionView]:
    """Sub-scores in the five dimensions' reading order, others after."""
    order = list(DIMENSION_LABELS)
    keys = sorted(subscores, key=lambda k: (order.index(k) if k in order else len(order), k))
    return [
        DimensionView(
            key,
            DIMENSION_LABELS.get(key, key),
            int(subscores[key]["points"]),
            float(subscores[key]["scale"]),
        )
        for key in keys
    ]


@dataclass(frozen=True, slots=True)
class EvidenceView:
    occurred_at: dt.datetime | None
    what: str
    source: str
    event_id: str


def evidence_views(evidence: Iterable[Mapping[str, Any]]) -> list[EvidenceView]:
    views = []
    for item in evidence:
        occurred = item.get("occurred_at")
        if isinstance(occurred, str):
            occurred = dt.datetime.fromisoformat(occurred)
        views.append(
            EvidenceView(
                occurred if isinstance(occurred, dt.datetime) else None,
                event_title(str(item.get("type", "event"))),
                str(item.get("source", "")),
                str(item.get("event_id", "")),
            )
        )
    return views


@dataclass(frozen=True, slots=True)
class ReasonView:
    feature: str
    title: str
    sentence: str
    points_below_best: int
    evidence: list[EvidenceView]
    advice: str | None = None


@dataclass(frozen=True, slots=True)
class ScoreView:
    score: int
    band: BandView
    as_of: dt.datetime
    model_version: str
    cause: str


@dataclass(frozen=True, slots=True)
class HistoryRow:
    as_of: dt.datetime
    score: int
    band: BandView
    cause: str


@dataclass(frozen=True, slots=True)
class WhatIfInput:
    """One slider of the what-if form: the member's value now and the range offered."""

    name: str
    title: str
    description: str
    current: float | int | None
    start: float | int
    value: float | int
    minimum: float | int
    maximum: float | int
    step: float | int
    better: str = "up"  # which way of the slider earns points: "up" or "down"
    money: bool = False  # values are minor units of the scoring currency

    def _text(self, number: float) -> str:
        return money_text(number) if self.money else f"{number:g}"

    @property
    def current_text(self) -> str:
        return "nothing recorded" if self.current is None else self._text(self.current)

    @property
    def value_text(self) -> str:
        return self._text(self.value)

    @property
    def money_attributes(self) -> dict[str, str]:
        """What the page's script needs to write a money slider's value as money."""
        if not self.money:
            return {}
        return {
            "data-currency": SCORING_CURRENCY,
            "data-exponent": str(minor_unit_digits()),
            "data-locale": LOCALE.replace("_", "-"),
        }


@dataclass(frozen=True, slots=True)
class ChangeView:
    title: str
    before: str
    after: str
    points: int


@dataclass(frozen=True, slots=True)
class WhatIfOutcome:
    score: int
    band: BandView
    delta: int
    changes: list[ChangeView]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class StepView:
    title: str
    condition: str
    gain: int


@dataclass(frozen=True, slots=True)
class PlanView:
    next_band: BandView | None
    points_needed: int
    steps: list[StepView]
    reachable: bool


@dataclass(slots=True)
class DashboardView:
    """The member's overview: score, sub-scores, reasons, history, what-if, what to do."""

    name: str
    score: ScoreView | None
    bands: list[BandView]
    dimensions: list[DimensionView] = field(default_factory=list)
    reasons: list[ReasonView] = field(default_factory=list)
    history: list[HistoryRow] = field(default_factory=list)
    whatif_inputs: list[WhatIfInput] = field(default_factory=list)
    whatif_more: list[WhatIfInput] = field(default_factory=list)
    whatif: WhatIfOutcome | None = None
    plan: PlanView | None = None
    charts: dict[str, Any] = field(default_factory=dict)

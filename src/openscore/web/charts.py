"""Plotly figures for the pages: pure functions from plain data to an HTML fragment.

Each chart is a ``<div>`` with the figure as JSON beside it; ``static/charts.js`` draws every
such div once the plotly.js bundle (served from the plotly package itself) has loaded. The
page therefore runs no inline script, so its Content-Security-Policy can forbid them, and
nothing is fetched from the internet. A chart is an image to assistive technology
(``role="img"`` with a one-sentence ``aria-label``); every page also shows the same numbers
as text (a table or a sentence), which is what a reader without JavaScript sees.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from markupsafe import Markup, escape

#: Band colours from worst to best: warm to cool, distinguishable in the common colour-vision
#: deficiencies (lightness rises with the band), and every band name is also written out.
BAND_COLOURS: tuple[str, ...] = ("#c2410c", "#d97706", "#ca8a04", "#65a30d", "#0f766e")
INK = "#1f2933"
MUTED = "#52606d"
ACCENT = "#0f5f8a"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

#: Plotly options for every chart: no toolbar or logo, resizes with its container.
CONFIG: dict[str, Any] = {"displayModeBar": False, "responsive": True, "displaylogo": False}


@dataclass(frozen=True, slots=True)
class Band:
    """A score band: its name and the lowest score in it."""

    name: str
    lower: int


@dataclass(frozen=True, slots=True)
class Chart:
    """A figure ready for a page: its element id, its JSON and a one-sentence description."""

    element_id: str
    figure: dict[str, Any]
    label: str
    height: int

    @property
    def figure_json(self) -> str:
        # "</" would end the <script> element early; "<\/" is the same JSON string.
        return json.dumps(self.figure, separators=(",", ":")).replace("</", "<\\/")

    def html(self) -> Markup:
        """The chart's container and data, to be drawn by ``static/charts.js``."""
        element_id = escape(self.element_id)
        return Markup(
            f'<div class="chart" id="{element_id}" role="img" aria-label="{escape(self.label)}"'
            f' data-figure="{element_id}-figure" style="min-height:{self.height}px"></div>'
            f'<script type="application/json" id="{element_id}-figure">'
            f"{self.figure_json}</script>"
        )


def band_colour(bands: Sequence[Band], name: str) -> str:
    """The colour of band ``name``: spread over the palette when there are not five bands."""
    index = [band.name for band in bands].index(name)
    if len(bands) == 1:
        return BAND_COLOURS[-1]
    position = round(index * (len(BAND_COLOURS) - 1) / (len(bands) - 1))
    return BAND_COLOURS[position]


def _tint(colour: str, alpha: float = 0.28) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def band_label(name: str) -> str:
    """A band's name as a reader sees it: ``very_good`` -> ``Very good``."""
    return name.replace("_", " ").capitalize()


def _figure(fig: go.Figure, element_id: str, label: str, height: int) -> Chart:
    fig.update_layout(
        template="none",
        height=height,
        autosize=True,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"family": FONT, "color": INK, "size": 13},
    )
    # Plotly's JSON encoder turns NumPy values and dates into plain JSON once, here.
    return Chart(element_id, json.loads(fig.to_json()) | {"config": CONFIG}, label, height)


def _band_ranges(bands: Sequence[Band], max_score: int) -> list[tuple[Band, int, int]]:
    uppers = [band.lower for band in bands[1:]] + [max_score]
    return [(band, band.lower, upper) for band, upper in zip(bands, uppers, strict=True)]


def gauge(
    score: int, band: str, bands: Sequence[Band], *, min_score: int = 350, max_score: int = 950
) -> Chart:
    """A semicircular gauge from ``min_score`` to ``max_score`` with the bands coloured."""
    # The bands as a pale ring, the member's part of it in their band's full colour.
    steps = [
        {"range": [lower, upper], "color": _tint(band_colour(bands, b.name)), "thickness": 1}
        for b, lower, upper in _band_ranges(bands, max_score)
    ]
    indicator = go.Indicator(
        mode="gauge+number",
        value=score,
        number={"font": {"size": 52, "color": INK}},
        gauge={
            "shape": "angular",
            "axis": {
                "range": [min_score, max_score],
                "tickvals": [b.lower for b in bands] + [max_score],
                "tickfont": {"size": 11, "color": MUTED},
                "tickcolor": MUTED,
            },
            "bar": {"color": band_colour(bands, band), "thickness": 0.55},
            "bgcolor": "#eef2f5",
            "borderwidth": 0,
            "steps": steps,
            "threshold": {"line": {"color": INK, "width": 3}, "thickness": 1, "value": score},
        },
        domain={"x": [0, 1], "y": [0, 1]},
    )
    fig = go.Figure(indicator)
    fig.update_layout(margin={"l": 28, "r": 28, "t": 16, "b": 8})
    label = f"Score gauge: {score} out of {min_score} to {max_score}, band {band_label(band)}."
    return _figure(fig, "gauge", label, 240)


def _two_lines(label: str) -> str:
    if len(label) <= 10 or " " not in label:
        return label
    middle = len(label) // 2
    spaces = [i for i, char in enumerate(label) if char == " "]
    cut = min(spaces, key=lambda i: abs(i - middle))
    return f"{label[:cut]}<br>{label[cut + 1 :]}"


def radar(subscores: Sequence[tuple[str, float]]) -> Chart:
    """The five dimensions' sub-scores (0–100) as a filled polygon; labels in reading order."""
    labels = [name for name, _ in subscores]
    values = [round(value, 1) for _, value in subscores]
    # Two-line labels keep the chart inside a phone's width.
    ticks = [_two_lines(label) for label in labels]
    trace = go.Scatterpolar(
        # Repeat the first point to close the outline.
        r=[*values, values[0]],
        theta=[*ticks, ticks[0]],
        fill="toself",
        fillcolor="rgba(15,95,138,0.18)",
        line={"color": ACCENT, "width": 2},
        marker={"size": 6, "color": ACCENT},
        hovertemplate="%{theta}: %{r:.0f} of 100<extra></extra>",
    )
    fig = go.Figure(trace)
    fig.update_layout(
        showlegend=False,
        margin={"l": 56, "r": 56, "t": 28, "b": 28},
        polar={
            "bgcolor": "rgba(0,0,0,0)",
            "radialaxis": {
                "range": [0, 100],
                "tickvals": [25, 50, 75, 100],
                "tickfont": {"size": 10, "color": MUTED},
                "gridcolor": "#d9e2ec",
                "angle": 90,
                "tickangle": 90,
            },
            "angularaxis": {"gridcolor": "#d9e2ec", "tickfont": {"size": 12}},
        },
    )
    parts = ", ".join(f"{name} {value:.0f}" for name, value in zip(labels, values, strict=True))
    return _figure(fig, "radar", f"Sub-scores out of 100: {parts}.", 320)


def history(
    points: Sequence[tuple[dt.datetime, int]],
    bands: Sequence[Band],
    *,
    min_score: int = 350,
    max_score: int = 950,
) -> Chart:
    """Score over time (oldest first) over lightly coloured band stripes."""
    ordered = sorted(points)
    fig = go.Figure(
        go.Scatter(
            x=[when.isoformat() for when, _ in ordered],
            y=[score for _, score in ordered],
            mode="lines+markers",
            line={"color": ACCENT, "width": 2.5, "shape": "linear"},
            marker={"size": 7, "color": ACCENT},
            hovertemplate="%{x|%d %b %Y}: %{y}<extra></extra>",
        )
    )
    for b, lower, upper in _band_ranges(bands, max_score):
        fig.add_hrect(
            y0=lower, y1=upper, fillcolor=band_colour(bands, b.name), opacity=0.1, line_width=0
        )
    fig.update_layout(
        showlegend=False,
        margin={"l": 44, "r": 12, "t": 12, "b": 36},
        yaxis={"range": [min_score, max_score], "gridcolor": "#e4e7eb", "tickfont": {"size": 11}},
        xaxis={"gridcolor": "#e4e7eb", "tickfont": {"size": 11}},
    )
    if ordered:
        first, last = ordered[0], ordered[-1]
        label = (
            f"Score history: {len(ordered)} scores from {first[1]} on {first[0]:%d %b %Y} "
            f"to {last[1]} on {last[0]:%d %b %Y}."
        )
    else:
        label = "Score history: no scores yet."
    return _figure(fig, "history", label, 240)


def band_shares(shares: Sequence[tuple[str, float]], bands: Sequence[Band]) -> Chart:
    """Share of scored members per band (0–1), one coloured bar per band."""
    names = [name for name, _ in shares]
    fig = go.Figure(
        go.Bar(
            x=[band_label(name) for name in names],
            y=[share * 100 for _, share in shares],
            marker={"color": [band_colour(bands, name) for name in names]},
            text=[f"{share:.1%}" for _, share in shares],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}: %{y:.1f}%<extra></extra>",
        )
    )
    fig.update_layout(
        margin={"l": 44, "r": 12, "t": 24, "b": 36},
        yaxis={"title": {"text": "% of members"}, "gridcolor": "#e4e7eb", "rangemode": "tozero"},
    )
    parts = ", ".join(f"{band_label(name)} {share:.1%}" for name, share in shares)
    return _figure(fig, "band-shares", f"Share of members per band: {parts}.", 260)


def bin_points(
    feature: str, labels: Sequence[str], points: Sequence[int], event_rates: Sequence[float]
) -> Chart:
    """Points per bin of one feature: positive bars in the accent colour, negative in red."""
    colours = [ACCENT if value >= 0 else BAND_COLOURS[0] for value in points]
    fig = go.Figure(
        go.Bar(
            x=list(points),
            y=list(labels),
            orientation="h",
            marker={"color": colours},
            customdata=[[rate] for rate in event_rates],
            text=[f"{value:+d}" for value in points],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:+d} points, bad rate %{customdata[0]:.1%}<extra></extra>",
        )
    )
    fig.update_layout(
        margin={"l": 8, "r": 36, "t": 8, "b": 28},
        xaxis={"title": {"text": "points"}, "zeroline": True, "zerolinecolor": MUTED},
        yaxis={"automargin": True, "autorange": "reversed", "tickfont": {"size": 11}},
    )
    parts = ", ".join(f"{label}: {value:+d}" for label, value in zip(labels, points, strict=True))
    height = 48 + 30 * len(labels)
    return _figure(fig, f"bins-{feature}", f"Points per bin of {feature}: {parts}.", height)


def information_values(features: Sequence[tuple[str, float]]) -> Chart:
    """Each feature's information value, strongest first, as horizontal bars."""
    ordered = sorted(features, key=lambda item: -item[1])
    fig = go.Figure(
        go.Bar(
            x=[iv for _, iv in ordered],
            y=[name for name, _ in ordered],
            orientation="h",
            marker={"color": ACCENT},
            hovertemplate="%{y}: IV %{x:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        margin={"l": 8, "r": 16, "t": 8, "b": 32},
        xaxis={"title": {"text": "information value"}, "gridcolor": "#e4e7eb"},
        yaxis={"automargin": True, "autorange": "reversed", "tickfont": {"size": 11}},
    )
    parts = ", ".join(f"{name} {iv:.3f}" for name, iv in ordered)
    height = 48 + 22 * len(ordered)
    return _figure(fig, "information-values", f"Information value per feature: {parts}.", height)

"""Charts: pure functions from plain data to a figure, a container and a text description."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from openscore.web import charts

BANDS = [
    charts.Band("poor", 350),
    charts.Band("fair", 550),
    charts.Band("good", 600),
    charts.Band("very good", 650),
    charts.Band("excellent", 700),
]


class TestGauge:
    def test_range_bands_and_value(self) -> None:
        chart = charts.gauge(712, "excellent", BANDS)
        (indicator,) = chart.figure["data"]
        assert indicator["type"] == "indicator"
        assert indicator["value"] == 712
        assert indicator["gauge"]["axis"]["range"] == [350, 950]
        steps = [(s["range"], s["color"]) for s in indicator["gauge"]["steps"]]
        assert steps == [
            ([350, 550], "rgba(194,65,12,0.28)"),
            ([550, 600], "rgba(217,119,6,0.28)"),
            ([600, 650], "rgba(202,138,4,0.28)"),
            ([650, 700], "rgba(101,163,13,0.28)"),
            ([700, 950], "rgba(15,118,110,0.28)"),
        ]
        # The member's own part of the ring is in their band's colour.
        assert indicator["gauge"]["bar"]["color"] == charts.BAND_COLOURS[4]
        assert chart.label == "Score gauge: 712 out of 350 to 950, band Excellent."

    def test_custom_range(self) -> None:
        chart = charts.gauge(420, "poor", BANDS[:2], min_score=300, max_score=900)
        (indicator,) = chart.figure["data"]
        assert indicator["gauge"]["axis"]["range"] == [300, 900]
        assert [s["range"] for s in indicator["gauge"]["steps"]] == [[350, 550], [550, 900]]
        # Two bands take the two ends of the palette.
        assert [s["color"] for s in indicator["gauge"]["steps"]] == [
            "rgba(194,65,12,0.28)",
            "rgba(15,118,110,0.28)",
        ]
        assert indicator["gauge"]["bar"]["color"] == charts.BAND_COLOURS[0]


class TestRadar:
    def test_closed_polygon_in_reading_order(self) -> None:
        chart = charts.radar([("Credit history", 80.0), ("Behaviour", 61.26), ("Connections", 5)])
        (trace,) = chart.figure["data"]
        assert trace["r"] == [80.0, 61.3, 5, 80.0]
        # Long labels break in two so that the chart fits a phone.
        assert trace["theta"] == [
            "Credit<br>history",
            "Behaviour",
            "Connections",
            "Credit<br>history",
        ]
        assert chart.figure["layout"]["polar"]["radialaxis"]["range"] == [0, 100]
        assert (
            chart.label == "Sub-scores out of 100: Credit history 80, Behaviour 61, Connections 5."
        )


class TestHistory:
    def test_oldest_first_with_band_stripes(self) -> None:
        newer = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
        older = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        chart = charts.history([(newer, 650), (older, 600)], BANDS)
        (trace,) = chart.figure["data"]
        assert trace["x"] == [older.isoformat(), newer.isoformat()]
        assert trace["y"] == [600, 650]
        stripes = [(s["y0"], s["y1"]) for s in chart.figure["layout"]["shapes"]]
        assert stripes == [(350, 550), (550, 600), (600, 650), (650, 700), (700, 950)]
        assert chart.label == (
            "Score history: 2 scores from 600 on 01 Jan 2025 to 650 on 01 Jun 2025."
        )

    def test_empty(self) -> None:
        assert charts.history([], BANDS).label == "Score history: no scores yet."


class TestBars:
    def test_band_shares_in_percent(self) -> None:
        chart = charts.band_shares([("poor", 0.1), ("very good", 0.25)], BANDS)
        (trace,) = chart.figure["data"]
        assert trace["x"] == ["Poor", "Very good"]
        assert trace["y"] == [10.0, 25.0]
        assert trace["marker"]["color"] == [charts.BAND_COLOURS[0], charts.BAND_COLOURS[3]]
        assert chart.label == "Share of members per band: Poor 10.0%, Very good 25.0%."

    def test_bin_points_colour_by_sign(self) -> None:
        chart = charts.bin_points(
            "debt_to_income", ["[-inf, 0.2)", "[0.2, inf)"], [15, -30], [0.02, 0.2]
        )
        (trace,) = chart.figure["data"]
        assert trace["x"] == [15, -30]
        assert trace["marker"]["color"] == [charts.ACCENT, charts.BAND_COLOURS[0]]
        assert chart.element_id == "bins-debt_to_income"
        assert chart.label == "Points per bin of debt_to_income: [-inf, 0.2): +15, [0.2, inf): -30."


class TestHtml:
    def test_container_and_json_for_the_drawing_script(self) -> None:
        html = str(charts.radar([("A", 1), ("B", 2)]).html())
        assert '<div class="chart" id="radar" role="img"' in html
        assert 'data-figure="radar-figure"' in html
        start = html.index('<script type="application/json" id="radar-figure">') + len(
            '<script type="application/json" id="radar-figure">'
        )
        figure = json.loads(html[start : html.index("</script>")])
        assert figure["config"] == charts.CONFIG
        assert figure["data"][0]["r"] == [1, 2, 1]

    def test_script_end_tag_cannot_escape_the_json(self) -> None:
        chart = charts.radar([("</script><script>alert(1)</script>", 50)])
        html = str(chart.html())
        assert html.count("</script>") == 1
        assert "&lt;/script&gt;" in html  # in the aria-label, escaped

    def test_no_template_bloat(self) -> None:
        # template="none": the figure carries no 5 kB default theme.
        assert len(charts.gauge(600, "good", BANDS).figure_json) < 2000

    @pytest.mark.parametrize("name", ["poor", "excellent"])
    def test_band_label(self, name: str) -> None:
        assert charts.band_label(name) == name.capitalize()

"""The overview's view model and its page, from a hand-made scorecard (no store, no browser)."""

from __future__ import annotations

import re

import pytest

from openscore.scoring.artefact import FeatureScore
from openscore.scoring.display import money_text
from openscore.scoring.scorer import score_features
from openscore.web.dashboard import (
    build_dashboard,
    parse_whatif_form,
    slider_for,
    whatif_outcome,
)
from openscore.web.templating import render
from openscore.web.views import PageContext, band_slug, feature_title, member_nav
from tests.scoring.handmade import feature_entry
from tests.web.factory import GOOD, STRUGGLING, artefact, records


class TestWords:
    @pytest.mark.parametrize(
        ("name", "title"),
        [
            ("on_time_share_12m", "On time share (12 months)"),
            ("defaults_5y", "Defaults (5 years)"),
            ("debt_to_income", "Debt to income"),
        ],
    )
    def test_feature_title(self, name: str, title: str) -> None:
        assert feature_title(name) == title

    def test_band_slug(self) -> None:
        assert band_slug("very good") == "very-good"


class TestSliders:
    def test_share_runs_zero_to_one(self) -> None:
        slider = slider_for(artefact().by_name["on_time_share_12m"], 0.7)
        assert (slider.minimum, slider.maximum, slider.step) == (0, 1, 0.01)
        assert (slider.start, slider.value, slider.better) == (0.7, 0.7, "up")

    def test_count_is_whole_and_covers_every_bin(self) -> None:
        slider = slider_for(artefact().by_name["open_judgments"], 1)
        assert slider.step == 1
        assert slider.minimum == 0 and slider.maximum >= 1
        assert slider.better == "down"

    def test_missing_value_starts_at_the_minimum(self) -> None:
        slider = slider_for(artefact().by_name["debt_to_income"], None)
        assert slider.current is None
        assert slider.start == slider.minimum == 0
        assert slider.current_text == "nothing recorded"

    @pytest.mark.parametrize("balance", [0, 1, 123_456, 99_999_999])
    def test_money_moves_in_round_amounts_on_a_grid_through_the_members_own(
        self, balance: int
    ) -> None:
        feature = FeatureScore.model_validate(
            {**feature_entry("outstanding_balance", [150_000.5, 900_000.5], [12, 0, -25]),
             "kind": "int64"}
        )  # fmt: skip
        slider = slider_for(feature, balance)
        assert slider.step > 1 and slider.step == int(slider.step)
        # The browser snaps values to minimum + k * step: the member's own must be on it.
        assert (balance - slider.minimum) % slider.step == 0
        assert (slider.maximum - balance) % slider.step == 0
        assert 0 <= slider.minimum <= balance <= slider.maximum
        assert slider.maximum >= 900_001
        assert slider.current_text == slider.value_text == money_text(balance)
        assert slider.money_attributes == {
            "data-currency": "EUR", "data-exponent": "2", "data-locale": "en-GB"
        }  # fmt: skip

    def test_a_count_is_not_money(self) -> None:
        slider = slider_for(artefact().by_name["open_judgments"], 1)
        assert slider.money_attributes == {}
        assert slider.value_text == "1"


class TestWhatIf:
    def test_only_moved_sliders_count(self) -> None:
        form = {
            "set.on_time_share_12m": "0.96",
            "start.on_time_share_12m": "0.7",
            "set.debt_to_income": "0.5",
            "start.debt_to_income": "0.5",
            "csrf_token": "x",
        }
        changes, errors = parse_whatif_form(artefact(), form)
        assert changes == {"on_time_share_12m": 0.96}
        assert errors == []

    @pytest.mark.parametrize(
        ("start", "grid", "sent", "moved"),
        [
            ("0.9123", "0 0.01", "0.91", False),  # snapped by the browser, untouched
            ("0.9123", "0 0.01", "0.92", True),  # one step up
            ("0.9123", "0 0.01", "0.9", True),  # one step down
            ("0.915", "0 0.01", "0.92", False),  # exactly between: either neighbour
            ("0.915", "0 0.01", "0.91", False),
            ("0.4567", "0 0.05", "0.45", False),
            ("0.4567", "nonsense", "0.45", True),  # no grid to snap to: a change
        ],
    )
    def test_a_slider_the_browser_snapped_is_unmoved(
        self, start: str, grid: str, sent: str, moved: bool
    ) -> None:
        form = {
            "set.on_time_share_12m": sent,
            "start.on_time_share_12m": start,
            "grid.on_time_share_12m": grid,
        }
        changes, errors = parse_whatif_form(artefact(), form)
        assert changes == ({"on_time_share_12m": float(sent)} if moved else {})
        assert errors == []

    def test_bad_values_are_named(self) -> None:
        form = {"set.on_time_share_12m": "lots", "set.nonsense": "1", "set.debt_to_income": "inf"}
        changes, errors = parse_whatif_form(artefact(), form)
        assert changes == {}
        assert errors == [
            "On time share (12 months): 'lots' is not a number",
            "nonsense: not a feature of model sc-test-0001",
            "Debt to income: 'inf' is not a finite number",
        ]

    def test_whole_features_get_integers(self) -> None:
        changes, _ = parse_whatif_form(artefact(), {"set.open_judgments": "0.0"})
        assert changes == {"open_judgments": 0}
        assert isinstance(changes["open_judgments"], int)

    def test_outcome_is_the_scorers(self) -> None:
        card = artefact()
        bands = build_dashboard("x", records("m1", STRUGGLING), card, STRUGGLING).bands
        outcome = whatif_outcome(card, STRUGGLING, {"on_time_share_12m": 0.96}, bands)
        expected = score_features(card, {**STRUGGLING, "on_time_share_12m": 0.96})
        assert outcome.score == expected.score
        assert outcome.band.name == expected.band
        assert outcome.delta == expected.score - score_features(card, STRUGGLING).score == 130
        assert [(c.title, c.before, c.after, c.points) for c in outcome.changes] == [
            ("On time share (12 months)", "0.7", "0.96", 130)
        ]

    def test_non_actionable_is_refused_in_words(self) -> None:
        card = artefact()
        bands = build_dashboard("x", records("m1", STRUGGLING), card, STRUGGLING).bands
        outcome = whatif_outcome(card, STRUGGLING, {"defaults_5y": 0}, bands)
        assert outcome.delta == 0
        assert outcome.error is not None and "not actionable" in outcome.error


class TestDashboard:
    def test_latest_record_with_history_and_reasons(self) -> None:
        history = records("m1", STRUGGLING)
        view = build_dashboard("Ada", history, artefact(), STRUGGLING)
        assert view.score is not None
        assert view.score.score == history[0].score == 430
        assert view.score.band.name == "poor"
        assert [d.key for d in view.dimensions] == [
            "credit_history",
            "behaviour",
            "ability_to_pay",
            "identity_stability",
            "connections",
        ]
        assert [r.feature for r in view.reasons] == [
            "on_time_share_12m",
            "open_judgments",
            "debt_to_income",
            "defaults_5y",
        ]
        assert view.reasons[0].advice == (
            "On time share (12 months) at least 0.95 would earn 130 more points."
        )
        # Not actionable: a reason, never advice.
        assert view.reasons[3].advice is None
        assert [row.score for row in view.history] == [430, 418, 406, 394]

    def test_plan_reaches_the_next_band(self) -> None:
        view = build_dashboard("Ada", records("m1", STRUGGLING), artefact(), STRUGGLING)
        assert view.plan is not None and view.plan.next_band is not None
        assert view.plan.next_band.name == "fair"
        assert view.plan.points_needed == 120
        assert view.plan.reachable
        assert sum(step.gain for step in view.plan.steps) >= 120

    def test_top_band_has_no_next(self) -> None:
        view = build_dashboard("Bo", records("m2", GOOD), artefact(), GOOD)
        assert view.plan is not None and view.plan.next_band is None
        assert view.reasons == []

    def test_no_score_yet(self) -> None:
        view = build_dashboard("Cy", [], artefact(), None)
        assert view.score is None and view.charts == {}

    def test_sliders_most_to_gain_first(self) -> None:
        view = build_dashboard("Ada", records("m1", STRUGGLING), artefact(), STRUGGLING)
        names = [s.name for s in view.whatif_inputs]
        assert names[:3] == ["on_time_share_12m", "open_judgments", "debt_to_income"]
        # Not actionable features have no slider.
        assert "defaults_5y" not in names and "identity_verified" not in names


def _page(view: object) -> str:
    context = PageContext(title="Your score", csrf_token="tok", nav=member_nav("/me"), charts=True)
    context.signed_in_as = "m1"
    return render("member/dashboard.html", page=context, view=view)


class TestPage:
    def test_text_equivalents_for_every_chart(self) -> None:
        html = _page(build_dashboard("Ada", records("m1", STRUGGLING), artefact(), STRUGGLING))
        for chart in ("gauge", "radar", "history"):
            assert re.search(
                rf'<div class="chart" id="{chart}" role="img" aria-label="[^"]+"', html
            )
        assert '<p class="score-number fallback" id="score-number">430</p>' in html
        assert html.count("<tr>") >= 5 + 4  # dimensions table and history table
        assert 'aria-current="page"' in html

    def test_forms_carry_the_csrf_token(self) -> None:
        html = _page(build_dashboard("Ada", records("m1", STRUGGLING), artefact(), STRUGGLING))
        forms = html.count("<form ")
        assert forms == 2  # sign out and what-if
        assert html.count('name="csrf_token" value="tok"') == forms

    def test_whatif_result_shown_after_a_post(self) -> None:
        view = build_dashboard(
            "Ada",
            records("m1", STRUGGLING),
            artefact(),
            STRUGGLING,
            changes={"on_time_share_12m": 0.96},
        )
        html = _page(view)
        assert '<span class="new-score" data-field="score">560</span>' in html
        assert "+130 points" in html
        assert 'id="whatif-result" aria-live="polite" hidden' not in html

    def test_names_are_escaped(self) -> None:
        html = _page(build_dashboard("<b>Ada</b>", [], artefact(), None))
        assert "Hello, &lt;b&gt;Ada&lt;/b&gt;" in html

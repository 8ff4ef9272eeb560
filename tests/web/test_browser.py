"""The pages in a real browser: charts drawn, what-if live and without JavaScript, consent
revoked and a partner refused, an attestation verified, keyboard reach and a phone's width."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from openscore.scoring.artefact import FeatureScore
from openscore.web.dashboard import parse_whatif_form, slider_for
from openscore.web.templating import templates
from tests.scoring.handmade import feature_entry
from tests.web.conftest import Screenshot, sign_in, sign_in_partner
from tests.web.factory import artefact
from tests.web.world import World

# One worker builds the world and runs every browser test (they share one server).
pytestmark = pytest.mark.xdist_group("web")


def drawn_size(page: Page, chart: str) -> tuple[float, float]:
    """The width and height of a chart's Plotly SVG once drawn (not merely in the HTML)."""
    page.wait_for_selector(f"#{chart}[data-drawn='true'] svg.main-svg")
    box = page.locator(f"#{chart} svg.main-svg").first.bounding_box()
    assert box is not None
    return box["width"], box["height"]


def shown_score(page: Page) -> int:
    return int(page.locator("#score-number").inner_text())


def move_best_slider(page: Page) -> str:
    """Move the slider with the most points to gain all the way in its better direction."""
    slider = page.locator("#whatif-form input[type=range]").first
    key = "End" if slider.get_attribute("data-better") == "up" else "Home"
    slider.focus()
    slider.press(key)
    return str(slider.get_attribute("id"))


class TestMemberOverview:
    def test_gauge_and_radar_are_drawn(
        self, page: Page, world: World, screenshot: Screenshot
    ) -> None:
        sign_in(page, world.weak)
        width, height = drawn_size(page, "gauge")
        assert width > 100 and height > 100
        width, height = drawn_size(page, "radar")
        assert width > 100 and height > 100
        drawn_size(page, "history")
        # The gauge shows the same number as the text the page carries without JavaScript.
        number = page.locator("#gauge text.number").text_content()
        assert number is not None and int(number) == shown_score(page)
        assert page.locator("#dimensions-table tbody tr").count() == 5
        screenshot(page, "dashboard")

    def test_reasons_name_their_evidence(self, page: Page, world: World) -> None:
        sign_in(page, world.weak)
        reasons = page.locator("ol.reasons > li")
        assert 1 <= reasons.count() <= 4
        first = reasons.first
        expect(first.locator("h3 .points")).to_contain_text("points")
        first.locator("summary").click()
        assert first.locator("table tbody tr").count() >= 1

    def test_whatif_live(self, page: Page, world: World, screenshot: Screenshot) -> None:
        sign_in(page, world.weak)
        before = shown_score(page)
        move_best_slider(page)
        result = page.locator("#whatif-result")
        expect(result).to_be_visible()
        expect(result.locator("[data-field=delta]")).to_contain_text("+")
        after = int(result.locator("[data-field=score]").inner_text())
        assert after > before
        screenshot(page, "whatif-live")

    def test_whatif_without_javascript(self, browser: Browser, base_url: str, world: World) -> None:
        context = browser.new_context(java_script_enabled=False, base_url=base_url)
        page = context.new_page()
        try:
            sign_in(page, world.weak)
            before = shown_score(page)
            expect(page.locator("#whatif-result")).to_be_hidden()
            move_best_slider(page)
            page.click("#whatif-form button[type=submit]")
            page.wait_for_url("**/me/what-if#what-if")
            result = page.locator("#whatif-result")
            expect(result).to_be_visible()
            assert int(result.locator("[data-field=score]").inner_text()) > before
        finally:
            context.close()


def grant_consent(page: Page, world: World) -> str:
    """Grant the partner a lending consent on the page; the pseudonym it shows."""
    page.goto("/me/consents")
    page.select_option("#partner_id", world.partner_id)
    page.select_option("#purpose", "lending")
    page.click("form[action='/me/consents'] button[type=submit]")
    expect(page.locator("[role=status]")).to_contain_text("Consent granted")
    active = page.locator(f"li[data-partner='{world.partner_id}'][data-status='active']")
    return active.first.locator(".mono").inner_text()


def ask_standing(page: Page, pseudonym: str) -> str:
    page.fill("#pseudonym", pseudonym)
    page.select_option("#purpose", "lending")
    page.click("form[action='/partner/standing#standing'] button[type=submit]")
    return page.locator("#standing-result").inner_text()


@pytest.fixture
def partner_page(browser: Browser, base_url: str, world: World) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, base_url=base_url)
    opened = context.new_page()
    sign_in_partner(opened, world.partner_key)
    yield opened
    context.close()


class TestConsent:
    def test_revoking_refuses_the_partner(
        self, page: Page, partner_page: Page, world: World, screenshot: Screenshot
    ) -> None:
        sign_in(page, world.strong)
        pseudonym = grant_consent(page, world)
        answer = ask_standing(partner_page, pseudonym)
        assert "threshold of 600" in answer
        page.goto("/me/access")
        expect(page.locator("#access-log tbody tr").first).to_contain_text(world.partner_name)
        page.goto("/me/consents")
        card = page.locator(f"li[data-partner='{world.partner_id}'][data-status='active']").first
        card.get_by_role("button", name="Revoke").click()
        expect(page.locator("[role=status]")).to_contain_text("Consent revoked")
        screenshot(page, "consents-after-revoke")
        answer = ask_standing(partner_page, pseudonym)
        assert answer.startswith("Refused")
        assert "no active consent" in answer
        screenshot(partner_page, "partner-refused")


class TestPartner:
    def test_verifies_an_attestation(
        self, page: Page, partner_page: Page, world: World, screenshot: Screenshot
    ) -> None:
        sign_in(page, world.weak)
        pseudonym = grant_consent(page, world)
        ask_standing(partner_page, pseudonym)
        token = partner_page.locator("#attestation").input_value()
        assert token.count(".") == 2
        partner_page.fill("#token", token)
        partner_page.click("form[action='/partner/verify#verify'] button[type=submit]")
        result = partner_page.locator("#verify-result")
        expect(result).to_contain_text("Valid.")
        expect(result).to_contain_text(pseudonym)
        screenshot(partner_page, "verified")
        # One character of the signature changed: refused, with the reason.
        tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
        partner_page.fill("#token", tampered)
        partner_page.click("form[action='/partner/verify#verify'] button[type=submit]")
        expect(partner_page.locator("#verify-result")).to_contain_text("Not valid")

    def test_event_file_errors_by_line(
        self, partner_page: Page, tmp_path: Path, screenshot: Screenshot
    ) -> None:
        lines = [
            '{"event_id": "w-1", "type": "member_enrolled", "member_id": "psn_x"}',
            "",
            '{"event_id": "w-2", "type": "bill_paid", "member_id": "psn_nobody"}',
        ]
        upload = tmp_path / "events.jsonl"
        upload.write_text("\n".join(lines) + "\n")
        partner_page.set_input_files("#events-file", str(upload))
        partner_page.click("form[action='/partner/events#events'] button[type=submit]")
        rows = partner_page.locator("#events-result tbody tr")
        expect(rows.first).to_be_visible()
        numbers = {rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())}
        assert numbers == {"1", "3"}
        text = partner_page.locator("#events-result").inner_text()
        assert "member_enrolled is not reported by partners" in text
        assert "no member is known to you by this pseudonym" in text
        screenshot(partner_page, "event-file-errors")


class TestAuditor:
    def test_model_card(self, page: Page, world: World, screenshot: Screenshot) -> None:
        page.goto("/auditor")
        page.fill("#api_key", world.auditor_key)
        page.click("form[action='/auditor/signin'] button[type=submit]")
        width, _ = drawn_size(page, "band-shares")
        assert width > 100
        drawn_size(page, "information-values")
        auc = float(page.locator("#metrics tbody td").first.inner_text())
        assert 0.5 < auc <= 1.0
        feature = page.locator("details[id^=feature-]").first
        feature.locator("summary").click()
        chart = feature.locator(".chart").first
        expect(chart).to_have_attribute("data-drawn", "true")
        screenshot(page, "model-card")


class TestAccessibility:
    def test_keyboard_reaches_the_main_controls(self, page: Page, world: World) -> None:
        sign_in(page, world.weak)
        reached: list[str] = []
        for _ in range(40):
            page.keyboard.press("Tab")
            reached.append(
                page.evaluate(
                    "() => { const e = document.activeElement;"
                    " return e.id || e.getAttribute('href') || e.textContent.trim(); }"
                )
            )
        first_slider = page.locator("#whatif-form input[type=range]").first.get_attribute("id")
        for wanted in (
            "#main",
            "/me/consents",
            "/me/access",
            "/me/records",
            "Sign out",
            first_slider,
        ):
            assert wanted in reached, f"{wanted} not reached by Tab: {reached}"
        # The skip link is first and moves focus to the content.
        page.goto("/me")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"

    @pytest.mark.parametrize("path", ["/me", "/me/consents", "/me/access", "/me/records"])
    def test_phone_width_has_no_horizontal_scroll(
        self, browser: Browser, base_url: str, world: World, path: str, screenshot: Screenshot
    ) -> None:
        context = browser.new_context(
            viewport={"width": 375, "height": 812}, base_url=base_url, is_mobile=True
        )
        page = context.new_page()
        try:
            sign_in(page, world.weak)
            page.goto(path)
            if path == "/me":
                drawn_size(page, "gauge")
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            screenshot(page, "phone")
        finally:
            context.close()

    def test_partner_page_fits_a_phone(self, browser: Browser, base_url: str, world: World) -> None:
        context = browser.new_context(viewport={"width": 375, "height": 812}, base_url=base_url)
        page = context.new_page()
        try:
            sign_in_partner(page, world.partner_key)
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
        finally:
            context.close()


class TestMoneySlider:
    def test_a_money_slider_reads_as_money_while_it_moves(self, browser: Browser) -> None:
        # The slider as the dashboard renders it, with the page's own script, in Chromium.
        feature = FeatureScore.model_validate(
            {**feature_entry("outstanding_balance", [150_000.5, 900_000.5], [12, 0, -25]),
             "kind": "int64"}
        )  # fmt: skip
        slider = slider_for(feature, 123_456)
        markup = (
            templates()
            .env.from_string(
                '{% from "macros.html" import slider %}'
                '<form id="whatif-form" data-live="/nowhere">{{ slider(item) }}</form>'
                '<div id="whatif-result" hidden></div>'
            )
            .render(item=slider)
        )
        script = (Path(__file__).parents[2] / "src/openscore/web/static/whatif.js").read_text()
        context = browser.new_context()
        page = context.new_page()
        try:
            page.set_content(markup)
            page.add_script_tag(content=script)
            output = page.locator("#wi-outstanding_balance-out")
            expect(output).to_have_text("€1,234.56")
            page.locator("#wi-outstanding_balance").focus()
            page.keyboard.press("ArrowLeft")
            left = (123_456 - slider.step) / 100
            expect(output).to_have_text(f"€{left:,.2f}")
        finally:
            context.close()

    def test_untouched_sliders_ask_for_no_change(self, browser: Browser) -> None:
        # A range input snaps its value to its step grid (0.9123 shows as 0.91): the form
        # the browser sends for sliders nobody moved must still mean "no change".
        board = artefact()
        sliders = [
            slider_for(board.by_name["on_time_share_12m"], 0.9123),
            slider_for(board.by_name["debt_to_income"], 0.4567),
            slider_for(board.by_name["open_judgments"], 1),
        ]
        markup = (
            templates()
            .env.from_string(
                '{% from "macros.html" import slider %}'
                '<form id="whatif-form">{% for s in sliders %}{{ slider(s) }}{% endfor %}</form>'
            )
            .render(sliders=sliders)
        )
        context = browser.new_context()
        page = context.new_page()
        try:
            page.set_content(markup)
            sent = page.evaluate(
                "() => Array.from(new FormData(document.getElementById('whatif-form')))"
            )
        finally:
            context.close()
        form = {key: value for key, value in sent}
        assert form["set.on_time_share_12m"] != form["start.on_time_share_12m"]  # snapped
        assert parse_whatif_form(board, form) == ({}, [])
        moved = {**form, "set.on_time_share_12m": "0.93"}
        assert parse_whatif_form(board, moved) == ({"on_time_share_12m": 0.93}, [])

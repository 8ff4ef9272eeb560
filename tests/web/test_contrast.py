"""Text colours in the stylesheet meet WCAG 2 AA contrast (4.5:1) on their backgrounds."""

from __future__ import annotations

import re

import pytest

from openscore.web.templating import STATIC_DIR

CSS = (STATIC_DIR / "site.css").read_text()


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def variable(name: str) -> str:
    found = re.search(rf"--{name}: (#[0-9a-f]{{6}});", CSS)
    assert found is not None, name
    return found.group(1)


BANDS = re.findall(r"\.band-([a-z-]+) \{ background: (#[0-9a-f]{6}); \}", CSS)


def test_every_band_has_a_chip() -> None:
    assert [name for name, _ in BANDS] == ["poor", "fair", "good", "very-good", "excellent"]


@pytest.mark.parametrize(("band", "colour"), BANDS)
def test_band_chips(band: str, colour: str) -> None:
    assert contrast("#ffffff", colour) >= 4.5, band


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("ink", "paper"),
        ("muted", "paper"),
        ("muted", "ground"),
        ("accent", "paper"),
        ("accent", "accent-soft"),
        ("danger", "danger-soft"),
        ("ok", "ok-soft"),
        ("accent-ink", "accent"),
    ],
)
def test_text_on_backgrounds(text: str, background: str) -> None:
    assert contrast(variable(text), variable(background)) >= 4.5

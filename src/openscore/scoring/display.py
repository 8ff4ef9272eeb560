"""Feature values as a member reads them: plain numbers, or money where a feature is money.

The ledger and the features keep money as integers in minor units (cents), which is exact
and what every engine sums; a member reads "€2,450.00", not "245000". Which features are
money is the catalogue's word (``MONEY_FEATURES``); a scorecard trained on a CSV file has
no catalogue, so its columns are shown as they are.
"""

from __future__ import annotations

import math
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision

from openscore.features.catalogue import MONEY_FEATURES
from openscore.features.rules import SCORING_CURRENCY
from openscore.scoring.artefact import FeatureScore, Value

#: How money is written for members (symbol, grouping and decimals).
LOCALE = "en_GB"


def is_money(feature: FeatureScore) -> bool:
    """Whether the feature's values are minor units of the scoring currency."""
    return feature.dimension != "tabular" and feature.name in MONEY_FEATURES


def minor_unit_digits() -> int:
    """How many digits of the scoring currency's amounts are minor units (2 for EUR)."""
    return int(get_currency_precision(SCORING_CURRENCY))


def money_text(minor: float) -> str:
    """An amount in minor units of the scoring currency as a member reads it: ``€2,450.00``."""
    amount = Decimal(round(minor)).scaleb(-minor_unit_digits())
    return format_currency(amount, SCORING_CURRENCY, locale=LOCALE)


def shown_value(value: Value, *, money: bool = False) -> str:
    """A feature value as a member reads it: four significant digits, money as money, or
    "nothing recorded"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nothing recorded"
    if money and isinstance(value, int | float) and math.isfinite(value):
        return money_text(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def reason_sentence(feature: FeatureScore, value: Value) -> str:
    """A reason as the member reads it: the feature's sentence and the member's value."""
    sentence = feature.description or f"The value of {feature.name}."
    return f"{sentence} Yours: {shown_value(value, money=is_money(feature))}."

"""The better bins a feature's value could move to, each with the value that reaches it.

A target is a bin that earns more points than the member's current one, with the bin
boundary to cross ("at least 0.95", "below 2.5", "one of a, b") and a concrete value inside
the bin, the nearest to the member's side, that what-if can try.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openscore.scoring.artefact import FeatureScore, Value
from openscore.scoring.display import is_money, money_text


@dataclass(frozen=True, slots=True)
class Target:
    """A better bin of one feature: how to get there and what it is worth."""

    feature: str
    bin: int
    gain: int
    op: str  # ">=", "<" or "in"
    bound: float | list[str]
    value: float | int | str
    distance: float
    money: bool = False  # the feature is money in minor units (see scoring.display)

    def condition(self) -> str:
        """The change in words, e.g. ``on_time_share_12m at least 0.95``.

        A whole-numbered feature names the whole number to reach ("at least 6", not "at
        least 5.5": nobody has half a connection); money reads as money ("at most €1,500.00").
        """
        whole = isinstance(self.value, int)

        def text(number: float) -> str:
            return money_text(number) if self.money else format(number, "g")

        if self.op == ">=":
            reach = self.value if whole else self.bound
            assert isinstance(reach, int | float)
            return f"{self.feature} at least {text(reach)}"
        if self.op == "<":
            if whole:
                assert isinstance(self.value, int)
                return f"{self.feature} at most {text(self.value)}"
            assert isinstance(self.bound, float)
            return f"{self.feature} below {text(self.bound)}"
        assert isinstance(self.bound, list)
        return f"{self.feature} one of {', '.join(self.bound)}"


def _numerical_target(
    feature: FeatureScore, current: int | None, value: float | None, j: int, gain: int
) -> Target | None:
    splits = feature.splits
    if not splits:
        return None  # one bin: only a missing value can be elsewhere
    whole = feature.kind == "int64"
    upward = current is None or j > current
    if upward and j > 0:
        bound = splits[j - 1]
        reach: float = math.ceil(bound) if whole else bound
        if j < len(splits) and reach >= splits[j]:
            return None  # no integer lies in this bin
        op = ">="
    elif j < len(splits):
        bound = splits[j]
        reach = math.ceil(bound) - 1 if whole else math.nextafter(bound, -math.inf)
        if j > 0 and reach < splits[j - 1]:
            return None
        op = "<"
    else:  # the top bin, reached from a missing value: anything at or above the last split
        bound = splits[-1]
        reach = math.ceil(bound) if whole else bound
        op = ">="
    distance = 0.0 if value is None else abs(reach - value)
    final: float | int = int(reach) if whole else reach
    return Target(feature.name, j, gain, op, bound, final, distance, money=is_money(feature))


def better_targets(feature: FeatureScore, value: Value) -> list[Target]:
    """Every bin earning more points than ``value`` does, nearest first."""
    current = feature.bin_of(value)
    have = feature.points_for(value)
    targets: list[Target] = []
    for j, points in enumerate(feature.points):
        gain = points - have
        if gain <= 0:
            continue
        if feature.dtype == "categorical":
            group = feature.categories[j]
            targets.append(Target(feature.name, j, gain, "in", list(group), group[0], 1.0))
            continue
        numeric = None if current is None else float(value)  # type: ignore[arg-type]
        target = _numerical_target(feature, current, numeric, j, gain)
        if target is not None:
            targets.append(target)
    return sorted(targets, key=lambda t: (t.distance, -t.gain))

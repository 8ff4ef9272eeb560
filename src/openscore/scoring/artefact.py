"""The scorecard artefact: versioned JSON that a scorer needs and nothing else (no pickle).

A member's total is ``intercept_points`` plus one integer per feature (the points of the bin
the feature's value falls in); the score is the total clipped to the scaling's range and the
band is the last band whose ``lower`` is at most the score. Points are integers so that SQL,
Spark and NumPy agree bit for bit.

A numerical feature's bin is the number of ``splits`` at or below the value
(``numpy.searchsorted(splits, x, side="right")``); a categorical feature's bin is the list of
``categories`` holding the value, ``other_points`` when no list does; a missing value (None or
NaN) takes ``missing_points``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from bisect import bisect_right
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

FORMAT = "openscore.scorecard/1"

DimensionName = Literal[
    "credit_history",
    "behaviour",
    "ability_to_pay",
    "identity_stability",
    "connections",
    "tabular",
]

#: Sesame Credit's launch bands; every band runs from its ``lower`` up to the next one's.
DEFAULT_BANDS: tuple[tuple[str, int], ...] = (
    ("poor", 350),
    ("fair", 550),
    ("good", 600),
    ("very good", 650),
    ("excellent", 700),
)

Value = float | int | str | None


class ArtefactError(ValueError):
    """An artefact file that cannot be read, naming the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BinSummary(_Strict):
    """One bin as the training data saw it (for the model card and the member's view)."""

    label: str
    count: int = Field(ge=0)
    event_rate: float | None = Field(ge=0, le=1)
    woe: float


class FeatureScore(_Strict):
    """One feature of the scorecard: how its value maps to integer points."""

    name: str = Field(min_length=1)
    dimension: DimensionName
    dtype: Literal["numerical", "categorical"]
    direction: Literal["higher_is_better", "higher_is_worse"] | None = None
    actionable: bool
    description: str = ""
    kind: Literal["int64", "float64"] = "float64"
    splits: list[float] = Field(default_factory=list)
    categories: list[list[str]] = Field(default_factory=list)
    points: list[int] = Field(min_length=1)
    missing_points: int
    other_points: int
    bins: list[BinSummary] = Field(default_factory=list)
    iv: float = 0.0

    @model_validator(mode="after")
    def _bins_agree(self) -> FeatureScore:
        if self.dtype == "numerical":
            if self.categories:
                raise ValueError("a numerical feature has splits, not categories")
            if any(not math.isfinite(s) for s in self.splits):
                raise ValueError("splits must be finite numbers")
            if any(b <= a for a, b in pairwise(self.splits)):
                raise ValueError("splits must be strictly ascending")
            expected = len(self.splits) + 1
        else:
            if self.splits:
                raise ValueError("a categorical feature has categories, not splits")
            seen = [c for group in self.categories for c in group]
            if len(seen) != len(set(seen)):
                raise ValueError("a category appears in more than one bin")
            expected = len(self.categories)
        if len(self.points) != expected:
            raise ValueError(f"points has {len(self.points)} entries; the bins need {expected}")
        if self.bins and len(self.bins) != expected:
            raise ValueError(f"bins has {len(self.bins)} entries; the bins need {expected}")
        return self

    @cached_property
    def _category_bin(self) -> dict[str, int]:
        return {c: i for i, group in enumerate(self.categories) for c in group}

    def bin_of(self, value: Value) -> int | None:
        """The value's bin index; None when missing, -1 for an unseen category."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if self.dtype == "numerical":
            return bisect_right(self.splits, float(value))
        return self._category_bin.get(str(value), -1)

    def points_for(self, value: Value) -> int:
        """The integer points the value earns."""
        index = self.bin_of(value)
        if index is None:
            return self.missing_points
        if index < 0:
            return self.other_points
        return self.points[index]

    def attainable(self) -> list[int]:
        """Every number of points a member can get from this feature."""
        other = [self.other_points] if self.dtype == "categorical" else []
        return [*self.points, self.missing_points, *other]

    @property
    def best_points(self) -> int:
        return max(self.attainable())

    @property
    def worst_points(self) -> int:
        return min(self.attainable())

    def bin_label(self, index: int | None) -> str:
        """A reader's label for a bin index as returned by :meth:`bin_of`."""
        if index is None:
            return "missing"
        if index < 0:
            return "other"
        if self.dtype == "categorical":
            return "{" + ", ".join(self.categories[index]) + "}"
        low = "-inf" if index == 0 else f"{self.splits[index - 1]:g}"
        high = "inf" if index == len(self.splits) else f"{self.splits[index]:g}"
        return f"[{low}, {high})"


class Scaling(_Strict):
    """Points to double the odds: score = offset + factor * ln(good:bad odds).

    ``factor = pdo / ln 2`` and ``offset = base_score - factor * ln(base_odds)``: a member
    whose good:bad odds are ``base_odds`` scores ``base_score``, and every ``pdo`` points
    more double the odds.
    """

    base_score: float = 600
    base_odds: float = Field(default=50, gt=0)
    pdo: float = Field(default=40, gt=0)
    min_score: int = 350
    max_score: int = 950

    @model_validator(mode="after")
    def _range(self) -> Scaling:
        if self.min_score >= self.max_score:
            raise ValueError("min_score must be below max_score")
        return self

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def clip(self, total: int) -> int:
        return min(max(total, self.min_score), self.max_score)


class Band(_Strict):
    """A named band starting at ``lower`` (up to the next band's lower)."""

    name: str = Field(min_length=1)
    lower: int


def default_bands() -> list[Band]:
    return [Band(name=name, lower=lower) for name, lower in DEFAULT_BANDS]


class ScorecardArtefact(_Strict):
    """Everything needed to score, explain and audit: features, points, scaling, bands."""

    format: Literal["openscore.scorecard/1"] = "openscore.scorecard/1"
    model_id: str = Field(min_length=1)
    kind: Literal["city", "tabular"]
    created_at: dt.datetime
    target: str
    features: list[FeatureScore] = Field(min_length=1)
    intercept_points: int
    scaling: Scaling = Field(default_factory=Scaling)
    bands: list[Band] = Field(default_factory=default_bands, min_length=1)
    metrics: dict[str, Any] = Field(default_factory=dict)
    fingerprint: str = ""
    training: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> ScorecardArtefact:
        names = [f.name for f in self.features]
        if len(names) != len(set(names)):
            raise ValueError("feature names must be unique")
        lowers = [b.lower for b in self.bands]
        if any(b <= a for a, b in pairwise(lowers)):
            raise ValueError("bands must be in strictly ascending order of lower")
        if lowers[0] > self.scaling.min_score:
            raise ValueError("the first band must start at or below scaling.min_score")
        return self

    @cached_property
    def by_name(self) -> dict[str, FeatureScore]:
        return {f.name: f for f in self.features}

    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def band_for(self, score: int) -> str:
        """The last band whose lower bound is at most the score."""
        chosen = self.bands[0].name
        for band in self.bands:
            if band.lower <= score:
                chosen = band.name
        return chosen

    def next_band(self, score: int) -> Band | None:
        """The first band above the score's band, if any."""
        for band in self.bands:
            if band.lower > score:
                return band
        return None

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_INDENT_2) + b"\n"


def _where(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "(top level)"


def parse_artefact(data: bytes | str, source: str = "<artefact>") -> ScorecardArtefact:
    """An artefact from JSON text; errors name ``source`` and each bad field."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise ArtefactError(f"{source}: not valid JSON: {error}") from None
    try:
        return ScorecardArtefact.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in error.errors())
        raise ArtefactError(f"{source}: {problems}") from None


def load_artefact(path: Path | str) -> ScorecardArtefact:
    """Read and validate an artefact file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ArtefactError(f"{path}: cannot read: {error.strerror}") from None
    return parse_artefact(data, str(path))


def save_artefact(artefact: ScorecardArtefact, path: Path | str) -> Path:
    """Write the artefact atomically (a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(artefact.to_json())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path

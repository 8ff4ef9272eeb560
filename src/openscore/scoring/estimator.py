"""The scorecard as a scikit-learn estimator: monotone optimal binning, then logistic regression.

``fit`` bins every feature with OptBinning (the event-rate trend fixed where the direction is
known, chosen from the data otherwise), replaces each value by its bin's weight of
evidence, fits a logistic regression on those, drops features whose coefficient comes out
with the wrong sign (their points would run against their own bins) and refits, then turns
coefficients into integer points by PDO scaling (:mod:`openscore.scoring.scaling`).
``predict_proba`` reads the probability back from the integer total, so the estimator and its
JSON artefact (:meth:`Scorecard.to_artefact`, :meth:`Scorecard.from_artefact`) are the same
scorer to the point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, _fit_context
from sklearn.linear_model import LogisticRegression
from sklearn.utils import Tags
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from openscore.scoring.artefact import (
    Band,
    BinSummary,
    FeatureScore,
    Scaling,
    ScorecardArtefact,
    default_bands,
)
from openscore.scoring.binning import FeatureBins, bin_codes, bin_label, event_rate, fit_feature
from openscore.scoring.scaling import bad_probability, bin_points, intercept_points

_TRENDS = {"higher_is_better": "descending", "higher_is_worse": "ascending"}


class Scorecard(ClassifierMixin, TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """A points scorecard: optimal monotone bins, logistic regression, PDO-scaled integer points.

    Parameters
    ----------
    directions : dict, default=None
        Feature name -> ``"higher_is_better"`` or ``"higher_is_worse"``: the bad rate must
        fall (rise) with the value. Features not named get ``monotonic_trend``.
    categorical : list of str, default=None
        Columns to bin as categories (object and category columns of a DataFrame always are).
    monotonic_trend : str, default="auto_heuristic"
        OptBinning's trend for features without a direction (it may choose a peak or a
        valley where the data show one; ``"auto_asc_desc"`` keeps every such feature monotone).
    max_n_prebins, min_prebin_size, min_bin_size : OptBinning's pre-binning and bin sizes.
    C : float, default=1.0
        Inverse L2 regularisation of the logistic regression on weights of evidence.
    min_iv : float, default=0.0
        Features with less information value are left out.
    binning_sample : int, default=200_000
        Bin boundaries are searched on at most this many rows (counts use every row).
    dimensions : dict, default=None
        Feature name -> dimension; used with ``dimension_caps``.
    dimension_caps : dict, default=None
        Dimension -> the most points its features may spread over (best minus worst);
        the points of a dimension over its cap are shrunk to it. Such a dimension is opt-in:
        a missing value there earns 0 points, neither for nor against.
    bad_label : int, float or str, default=None
        The class that is the bad outcome; the greater of the two classes if None.
    base_score, base_odds, pdo, min_score, max_score : PDO scaling, see ``Scaling``.
    bands : list of (name, lower), default=None
        Score bands; Sesame Credit's launch bands if None.
    random_state : int, default=0
        Seed of the binning sample.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "directions": [dict, None],
        "categorical": [list, None],
        "monotonic_trend": [
            StrOptions({"auto", "auto_asc_desc", "auto_heuristic", "ascending", "descending"})
        ],
        "max_n_prebins": [Interval(Integral, 2, None, closed="left")],
        "min_prebin_size": [Interval(Real, 0, 0.5, closed="right")],
        "min_bin_size": [Interval(Real, 0, 0.5, closed="right"), None],
        "C": [Interval(Real, 0, None, closed="neither")],
        "min_iv": [Interval(Real, 0, None, closed="left")],
        "binning_sample": [Interval(Integral, 100, None, closed="left")],
        "dimensions": [dict, None],
        "dimension_caps": [dict, None],
        "bad_label": [Integral, Real, str, None],
        "base_score": [Real],
        "base_odds": [Interval(Real, 0, None, closed="neither")],
        "pdo": [Interval(Real, 0, None, closed="neither")],
        "min_score": [Integral],
        "max_score": [Integral],
        "bands": [list, None],
        "random_state": [Integral],
    }

    def __init__(
        self,
        *,
        directions: dict[str, str] | None = None,
        categorical: list[str] | None = None,
        monotonic_trend: str = "auto_heuristic",
        max_n_prebins: int = 20,
        min_prebin_size: float = 0.05,
        min_bin_size: float | None = None,
        C: float = 1.0,
        min_iv: float = 0.0,
        binning_sample: int = 200_000,
        dimensions: dict[str, str] | None = None,
        dimension_caps: dict[str, int] | None = None,
        bad_label: int | float | str | None = None,
        base_score: float = 600,
        base_odds: float = 50,
        pdo: float = 40,
        min_score: int = 350,
        max_score: int = 950,
        bands: list[tuple[str, int]] | None = None,
        random_state: int = 0,
    ) -> None:
        self.directions = directions
        self.categorical = categorical
        self.monotonic_trend = monotonic_trend
        self.max_n_prebins = max_n_prebins
        self.min_prebin_size = min_prebin_size
        self.min_bin_size = min_bin_size
        self.C = C
        self.min_iv = min_iv
        self.binning_sample = binning_sample
        self.dimensions = dimensions
        self.dimension_caps = dimension_caps
        self.bad_label = bad_label
        self.base_score = base_score
        self.base_odds = base_odds
        self.pdo = pdo
        self.min_score = min_score
        self.max_score = max_score
        self.bands = bands
        self.random_state = random_state

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.classifier_tags.multi_class = False
        return tags

    # --- input ------------------------------------------------------------------------------

    def _frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        """X as a DataFrame with one column per feature (categorical columns kept as objects)."""
        if isinstance(X, pd.DataFrame):
            if X.shape[0] < 1:
                raise ValueError("Found array with 0 sample(s); a scorecard needs rows")
            if reset:
                self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
                self.n_features_in_ = X.shape[1]
                return X.set_axis(list(self.feature_names_in_), axis=1)
            X = X.set_axis([str(c) for c in X.columns], axis=1)
            missing = [c for c in self.feature_names_in_ if c not in X.columns]
            if missing:
                raise ValueError(f"X lacks the scorecard's columns: {', '.join(missing)}")
            return X.loc[:, list(self.feature_names_in_)]
        array = validate_data(self, X, reset=reset, ensure_all_finite="allow-nan", dtype=None)
        if array.dtype.kind not in "biuf":
            array = np.asarray(array, dtype=np.float64)
        names = getattr(self, "feature_names_in_", None)
        if names is None or reset:
            names = [f"x{i}" for i in range(array.shape[1])]
        return pd.DataFrame(array, columns=list(names))

    def _dtype(self, frame: pd.DataFrame, name: str) -> str:
        if name in (self.categorical or []) or not pd.api.types.is_numeric_dtype(frame[name]):
            return "categorical"
        return "numerical"

    # --- fit --------------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)  # type: ignore[untyped-decorator]
    def fit(self, X: Any, y: Any) -> Scorecard:
        """Bin every feature, fit the regression on weights of evidence and scale to points."""
        frame = self._frame(X, reset=True)
        if y is None:
            raise ValueError("requires y to be passed, but the target y is None")
        y = column_or_1d(y, warn=True)
        if len(y) != len(frame):
            raise ValueError(f"y must be one label per row of X ({len(frame)}), got {len(y)}")
        kind = type_of_target(y, input_name="y", raise_unknown=True)
        if kind != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {kind}."
            )
        if len(np.unique(y)) < 2:
            raise ValueError("y has only one class: a scorecard needs a bad and a good class")
        self.classes_ = np.unique(y)
        bad = self.classes_[1] if self.bad_label is None else self.bad_label
        if bad not in self.classes_:
            raise ValueError(f"bad_label {bad!r} is not one of the classes {list(self.classes_)}")
        self.bad_label_ = bad
        event = y == bad
        binned = self._bin_all(frame, event)
        self._fit_regression(binned, frame, event)
        return self

    def _bin_all(self, frame: pd.DataFrame, event: NDArray[np.bool_]) -> list[FeatureBins]:
        rng = np.random.default_rng(self.random_state)
        sample = None
        if len(frame) > self.binning_sample:
            sample = np.sort(rng.choice(len(frame), self.binning_sample, replace=False))
        opt_in = set((self.dimension_caps or {}).keys())
        dimensions = self.dimensions or {}
        options: dict[str, Any] = {
            "max_n_prebins": self.max_n_prebins,
            "min_prebin_size": self.min_prebin_size,
            "min_bin_size": self.min_bin_size,
        }
        fitted = []
        for name in frame.columns:
            dtype = self._dtype(frame, name)
            direction = (self.directions or {}).get(name)
            trend = _TRENDS.get(direction or "", self.monotonic_trend)
            if dtype == "categorical":
                trend = "auto"
            column = frame[name].to_numpy()
            fitted.append(
                fit_feature(
                    str(name),
                    column,
                    event,
                    dtype=dtype,
                    trend=trend,
                    sample=sample,
                    neutral_missing=dimensions.get(name) in opt_in,
                    **options,
                )
            )
        return fitted

    def _fit_regression(
        self, binned: list[FeatureBins], frame: pd.DataFrame, event: NDArray[np.bool_]
    ) -> None:
        woe = {b.name: b.woe[b.codes(frame[b.name].to_numpy())] for b in binned}
        chosen = [b for b in binned if b.iv > self.min_iv and b.n_bins + 2 > 2]
        chosen = [b for b in chosen if np.ptp(woe[b.name]) > 0]
        model = LogisticRegression(C=self.C, max_iter=1000)
        # WoE grows with the good rate, so every coefficient on P(bad) should be negative;
        # a positive one (collinearity) would run against its bins: drop it and refit.
        while True:
            if not chosen:
                model.fit(np.zeros((len(frame), 1)), event)
                coefficients: NDArray[np.float64] = np.zeros(0)
                break
            matrix = np.column_stack([woe[b.name] for b in chosen])
            model.fit(matrix, event)
            coefficients = model.coef_[0]
            wrong = coefficients > 0
            if not wrong.any():
                break
            chosen = [b for b, w in zip(chosen, wrong, strict=True) if not w]
        self.bins_ = binned
        self.selected_ = [b.name for b in chosen]
        self.coef_ = coefficients
        self.intercept_ = float(model.intercept_[0])
        self.features_ = self._points(chosen, coefficients)
        self.intercept_points_ = intercept_points(self._scaling(), self.intercept_)

    def _scaling(self) -> Scaling:
        return Scaling(
            base_score=self.base_score,
            base_odds=self.base_odds,
            pdo=self.pdo,
            min_score=self.min_score,
            max_score=self.max_score,
        )

    def _points(
        self, chosen: Sequence[FeatureBins], coefficients: NDArray[np.float64]
    ) -> list[FeatureScore]:
        scaling = self._scaling()
        dimensions = self.dimensions or {}
        points = {
            b.name: bin_points(scaling, float(c), b.woe)
            for b, c in zip(chosen, coefficients, strict=True)
        }
        for dimension, cap in (self.dimension_caps or {}).items():
            names = [b.name for b in chosen if dimensions.get(b.name) == dimension]
            spread = sum(max(points[n]) - min(points[n]) for n in names)
            if spread > cap:
                for n in names:
                    points[n] = [int(p) for p in np.rint(np.asarray(points[n]) * cap / spread)]
        return [self._feature_score(b, points[b.name]) for b in chosen]

    def _feature_score(self, bins: FeatureBins, points: list[int]) -> FeatureScore:
        k = bins.n_bins
        summaries = [
            BinSummary(
                label=bin_label(bins, code),
                count=int(bins.count[code]),
                event_rate=event_rate(int(bins.count[code]), int(bins.events[code])),
                woe=float(bins.woe[code]),
            )
            for code in range(k)
        ]
        direction = (self.directions or {}).get(bins.name)
        return FeatureScore(
            name=bins.name,
            dimension=(self.dimensions or {}).get(bins.name, "tabular"),
            dtype=bins.dtype,
            direction=direction,
            actionable=True,
            splits=bins.splits,
            categories=bins.categories,
            points=points[:k],
            missing_points=points[k],
            other_points=points[k + 1],
            bins=summaries,
            iv=round(bins.iv, 6),
        )

    # --- predict ----------------------------------------------------------------------------

    def transform(self, X: Any) -> NDArray[np.int64]:
        """Integer points per scorecard feature (columns in ``get_feature_names_out`` order)."""
        check_is_fitted(self, "features_")
        frame = self._frame(X, reset=False)
        if not self.features_:
            return np.zeros((len(frame), 0), dtype=np.int64)
        columns = []
        for feature in self.features_:
            table = np.asarray(
                [*feature.points, feature.missing_points, feature.other_points], dtype=np.int64
            )
            codes = bin_codes(
                feature.dtype, feature.splits, feature.categories, frame[feature.name].to_numpy()
            )
            columns.append(table[codes])
        return np.column_stack(columns)

    def get_feature_names_out(self, input_features: Any = None) -> NDArray[np.object_]:
        check_is_fitted(self, "features_")
        return np.asarray([f.name for f in self.features_], dtype=object)

    def total_points(self, X: Any) -> NDArray[np.int64]:
        """Intercept plus every feature's points, before clipping."""
        points = self.transform(X)
        return np.asarray(self.intercept_points_ + points.sum(axis=1), dtype=np.int64)

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Accuracy (scikit-learn's classifier convention); see :meth:`scores` for points."""
        return float(super().score(X, y, sample_weight=sample_weight))

    def scores(self, X: Any) -> NDArray[np.int64]:
        """Scores clipped to ``min_score``..``max_score``."""
        return np.clip(self.total_points(X), self.min_score, self.max_score)

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Class probabilities (``classes_`` order) read back from the integer total."""
        bad = bad_probability(self._scaling(), self.total_points(X))
        bad_first = bool(self.classes_[0] == self.bad_label_)
        return np.column_stack([bad, 1 - bad] if bad_first else [1 - bad, bad])

    def decision_function(self, X: Any) -> NDArray[np.float64]:
        proba = self.predict_proba(X)
        return np.log(proba[:, 1]) - np.log(proba[:, 0])

    def predict(self, X: Any) -> NDArray[Any]:
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])

    # --- artefact ---------------------------------------------------------------------------

    def band_list(self) -> list[Band]:
        if self.bands is None:
            return default_bands()
        return [Band(name=name, lower=lower) for name, lower in self.bands]

    def to_artefact(
        self,
        *,
        model_id: str,
        kind: str = "tabular",
        target: str = "target",
        created_at: Any = None,
        describe: Mapping[str, Mapping[str, Any]] | None = None,
        **extra: Any,
    ) -> ScorecardArtefact:
        """The fitted scorecard as a JSON artefact (``describe`` adds catalogue metadata)."""
        import datetime as dt

        check_is_fitted(self, "features_")
        features = [
            f.model_copy(update=dict((describe or {}).get(f.name, {}))) for f in self.features_
        ]
        return ScorecardArtefact(
            model_id=model_id,
            kind=kind,
            created_at=created_at or dt.datetime.now(dt.UTC),
            target=target,
            features=features,
            intercept_points=self.intercept_points_,
            scaling=self._scaling(),
            bands=self.band_list(),
            **extra,
        )

    @classmethod
    def from_artefact(cls, artefact: ScorecardArtefact) -> Scorecard:
        """A fitted scorecard that scores exactly as the artefact does."""
        scaling = artefact.scaling
        model = cls(
            base_score=scaling.base_score,
            base_odds=scaling.base_odds,
            pdo=scaling.pdo,
            min_score=scaling.min_score,
            max_score=scaling.max_score,
            bands=[(b.name, b.lower) for b in artefact.bands],
            categorical=[f.name for f in artefact.features if f.dtype == "categorical"],
        )
        model.features_ = list(artefact.features)
        model.selected_ = [f.name for f in artefact.features]
        model.intercept_points_ = artefact.intercept_points
        model.feature_names_in_ = np.asarray(model.selected_, dtype=object)
        model.n_features_in_ = len(model.selected_)
        model.classes_ = np.asarray([0, 1])
        model.bad_label_ = 1
        return model

"""Any tabular data set as a training or test set: a CSV with a binary target column.

Numeric columns are binned as numbers, anything else as categories; empty cells are missing
values. The target holds two values (0/1, or two labels such as good/bad); ``bad_label``
says which is the bad outcome (default: 1, or "bad", or the greater of the two). Columns that
name a protected attribute are left out and reported, never scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from openscore.scoring.reasons import is_protected
from openscore.scoring.training import TrainingSet


class CsvProblem(ValueError):
    """A CSV that cannot be used, saying where (file, line, column) and what."""


@dataclass(frozen=True)
class CsvData:
    frame: pd.DataFrame
    bad: np.ndarray[Any, np.dtype[np.bool_]]
    bad_label: str
    left_out: list[str]


def read_csv(path: Path, target: str, bad_label: str | None = None) -> CsvData:
    """The features and the bad flag of a CSV, or a :class:`CsvProblem` naming where."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise CsvProblem(f"{path}: no such file") from None
    except pd.errors.EmptyDataError:
        raise CsvProblem(f"{path}: the file is empty (no header line)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise CsvProblem(f"{path}: cannot parse: {error}") from None
    if target not in frame.columns:
        raise CsvProblem(
            f"{path}: line 1: no column {target!r} (columns: {', '.join(frame.columns)})"
        )
    if len(frame) == 0:
        raise CsvProblem(f"{path}: no data rows after the header")
    labels = frame.pop(target)
    empty = labels.isna().to_numpy()
    if empty.any():
        line = int(np.argmax(empty)) + 2
        raise CsvProblem(f"{path}: line {line}, column {target!r}: the target is empty")
    values = list(dict.fromkeys(labels.str.strip()))
    if len(values) > 2:
        line = int(np.argmax(labels.str.strip() == values[2])) + 2
        raise CsvProblem(
            f"{path}: line {line}, column {target!r}: a third target value {values[2]!r} "
            f"(a scorecard needs two: {values[0]!r} and {values[1]!r})"
        )
    chosen = _bad_label(path, target, values, bad_label)
    left_out = [c for c in frame.columns if is_protected(c)]
    frame = frame.drop(columns=left_out)
    return CsvData(_typed(frame), (labels.str.strip() == chosen).to_numpy(), chosen, left_out)


def _bad_label(path: Path, target: str, values: list[str], bad_label: str | None) -> str:
    if bad_label is not None:
        if bad_label not in values:
            raise CsvProblem(
                f"{path}: column {target!r}: --bad-label {bad_label!r} is not one of its values "
                f"({', '.join(map(repr, values))})"
            )
        return bad_label
    if len(values) < 2:
        return values[0]
    for usual in ("1", "bad", "yes", "true", "default"):
        lowered = {v.lower(): v for v in values}
        if usual in lowered:
            return lowered[usual]
    return max(values)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns whose every non-empty cell is a number become float; the rest stay text."""
    typed = {}
    for name in frame.columns:
        numbers = pd.to_numeric(frame[name], errors="coerce")
        if numbers.notna().sum() == frame[name].notna().sum():
            typed[name] = numbers.astype("float64")
        else:
            typed[name] = frame[name].astype(object)
    return pd.DataFrame(typed, index=frame.index)


def tabular_training_set(path: Path, target: str, bad_label: str | None = None) -> TrainingSet:
    """A CSV as a training set (dimension "tabular", every column actionable)."""
    data = read_csv(path, target, bad_label)
    describe = {
        name: {"kind": "int64" if _whole(data.frame[name]) else "float64"}
        for name in data.frame.columns
        if data.frame[name].dtype.kind == "f"
    }
    info = {
        "source": str(path),
        "rows": len(data.frame),
        "bad_label": data.bad_label,
        "bad_rate": round(float(data.bad.mean()), 6),
        "columns": len(data.frame.columns),
        "left_out_protected": data.left_out,
    }
    categorical = [c for c in data.frame.columns if data.frame[c].dtype == object]
    return TrainingSet(
        data.frame, data.bad, target, "tabular", describe, info, {"categorical": categorical}
    )


def _whole(column: pd.Series) -> bool:
    values = column.dropna().to_numpy()
    return bool(len(values)) and bool(np.all(values == np.round(values)))

"""Scorecard figures: German credit against the open scorecard builders, and the simulated city.

(a) German credit (``scorecardpy.germancredit()``), one stratified 70/30 split with
    random_state=42: test AUC of ours beside the documented default workflows of optbinning
    (BinningProcess + Scorecard), toad (Combiner + WOETransformer + LogisticRegression) and
    scorecardpy (var_filter + woebin + LogisticRegression). Ours leaves out the protected
    column ``personal_status_and_sex``; the others use every column.
(b) Repeated stratified 5-fold cross-validation (10 repeats): mean and spread of our AUC beside
    Lessmann et al. (2015): logistic regression 0.784, best ensemble 0.801.
(c) A simulated city: hold-out AUC of ours and of the oracle ``pd_12m`` (true default
    probability from the member's traits).
(d) Training time and peak memory at 1,000,000 members (the city's feature rows resampled
    with replacement to that size), ours and optbinning's own workflow on the same rows,
    each in a fresh process.

Prints figures only. ``--quick`` uses a smaller city and 100,000 rows for (d).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split

from openscore.scoring.estimator import Scorecard
from openscore.scoring.reasons import is_protected

warnings.filterwarnings("ignore")


def german() -> tuple[pd.DataFrame, np.ndarray[Any, Any]]:
    import scorecardpy as sc

    frame = sc.germancredit()
    bad = (frame.pop("creditability") == "bad").to_numpy().astype(int)
    for column in frame.columns:
        if str(frame[column].dtype) == "category":
            frame[column] = frame[column].astype(object)
    return frame, bad


def ours(train: pd.DataFrame, y: Any) -> Scorecard:
    kept = [c for c in train.columns if not is_protected(c)]
    return Scorecard().fit(train[kept], y)


def auc_optbinning(xtr: pd.DataFrame, ytr: Any, xte: pd.DataFrame, yte: Any) -> float:
    from optbinning import BinningProcess
    from optbinning import Scorecard as OptScorecard

    names = list(xtr.columns)
    categorical = [c for c in names if xtr[c].dtype == object]
    process = BinningProcess(names, categorical_variables=categorical)
    card = OptScorecard(binning_process=process, estimator=LogisticRegression())
    card.fit(xtr, ytr)
    return float(roc_auc_score(yte, card.predict_proba(xte)[:, 1]))


def auc_toad(xtr: pd.DataFrame, ytr: Any, xte: pd.DataFrame, yte: Any) -> float:
    import toad

    train = xtr.assign(target=ytr)
    combiner = toad.transform.Combiner()
    combiner.fit(train, y="target", method="chi", min_samples=0.05)
    woe = toad.transform.WOETransformer()
    train_woe = woe.fit_transform(combiner.transform(train), train["target"], exclude=["target"])
    model = LogisticRegression().fit(train_woe.drop(columns="target"), ytr)
    test_woe = woe.transform(combiner.transform(xte))
    return float(roc_auc_score(yte, model.predict_proba(test_woe[xtr.columns])[:, 1]))


# scorecardpy 0.1.9.7 (its latest release) needs pandas < 3 (it calls
# ``pd.to_numeric(errors="ignore")`` and assigns across categoricals, both gone in pandas 3),
# so it runs in a virtualenv of its own, made once, with the versions it was released against.
SCORECARDPY_VENV = Path(__file__).resolve().parent.parent / ".venv-bench-scorecardpy"
SCORECARDPY_REQUIREMENTS = [
    "scorecardpy==0.1.9.7",
    "pandas>=2.0,<2.1",
    "numpy<2",
    "scikit-learn<1.6",
]
SCORECARDPY_WORKFLOW = """
import sys
import pandas as pd
import scorecardpy as sc
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

train = pd.read_csv(sys.argv[1])
test = pd.read_csv(sys.argv[2])
train = sc.var_filter(train, y="creditability")
bins = sc.woebin(train, y="creditability")
train_woe = sc.woebin_ply(train, bins)
test_woe = sc.woebin_ply(test[train.columns], bins)
x = [c for c in train_woe.columns if c != "creditability"]
model = LogisticRegression(penalty="l1", C=0.9, solver="liblinear")
model.fit(train_woe[x], train_woe["creditability"])
print(roc_auc_score(test_woe["creditability"], model.predict_proba(test_woe[x])[:, 1]))
"""


def _scorecardpy_python() -> Path:
    python = SCORECARDPY_VENV / "bin" / "python"
    if not python.exists():
        print(f"  (making {SCORECARDPY_VENV.name} for scorecardpy with pandas < 3)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(SCORECARDPY_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *SCORECARDPY_REQUIREMENTS],
            check=True,
        )
    return python


def auc_scorecardpy(xtr: pd.DataFrame, ytr: Any, xte: pd.DataFrame, yte: Any) -> float:
    """scorecardpy's documented workflow (var_filter, woebin, woebin_ply, L1 regression)."""
    python = _scorecardpy_python()
    with tempfile.TemporaryDirectory(prefix="scorecardpy-") as scratch:
        train, test = Path(scratch) / "train.csv", Path(scratch) / "test.csv"
        xtr.assign(creditability=np.asarray(ytr, dtype=int)).to_csv(train, index=False)
        xte.assign(creditability=np.asarray(yte, dtype=int)).to_csv(test, index=False)
        run = subprocess.run(
            [str(python), "-c", SCORECARDPY_WORKFLOW, str(train), str(test)],
            check=True,
            capture_output=True,
            text=True,
        )
    return float(run.stdout.strip().splitlines()[-1])


def german_split() -> None:
    frame, bad = german()
    xtr, xte, ytr, yte = train_test_split(frame, bad, test_size=0.3, stratify=bad, random_state=42)
    model = ours(xtr, ytr)
    figures = {"openscore": float(roc_auc_score(yte, model.predict_proba(xte)[:, 1]))}
    for name, run in (
        ("optbinning", auc_optbinning),
        ("toad", auc_toad),
        ("scorecardpy", auc_scorecardpy),
    ):
        try:
            figures[name] = run(xtr, ytr, xte, yte)
        except Exception as error:  # a missing optional package must not stop the others
            print(f"  {name}: failed: {error!r}")
    print("(a) German credit, stratified 70/30 split (random_state=42), test AUC")
    for name, value in figures.items():
        print(f"  {name:<12} {value:.4f}")
    others = [v for k, v in figures.items() if k != "openscore"]
    if others:
        print(f"  ours - best of the others: {figures['openscore'] - max(others):+.4f}")


def german_cv() -> None:
    frame, bad = german()
    folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=10, random_state=42)
    aucs = []
    started = time.perf_counter()
    for train, test in folds.split(frame, bad):
        model = ours(frame.iloc[train], bad[train])
        aucs.append(roc_auc_score(bad[test], model.predict_proba(frame.iloc[test])[:, 1]))
    print("(b) German credit, repeated stratified 5-fold x 10, AUC")
    print(
        f"  openscore    mean {np.mean(aucs):.4f}  std {np.std(aucs):.4f}  "
        f"({len(aucs)} fits in {time.perf_counter() - started:.1f} s)"
    )
    print("  published    logistic regression 0.784, best ensemble 0.801 (Lessmann et al. 2015)")


def city(members: int, workdir: Path) -> tuple[pd.DataFrame, np.ndarray[Any, Any], dict[str, Any]]:
    from openscore.scoring.cityset import city_training_set
    from openscore.simulate.config import load_config
    from openscore.simulate.writer import write_city

    out = workdir / "city"
    started = time.perf_counter()
    config = load_config(None, members=members, months=24, seed=7, start=dt.date(2023, 1, 1))
    write_city(config, out)
    simulated = time.perf_counter() - started
    as_of = dt.datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
    started = time.perf_counter()
    training = city_training_set(as_of, 12, out, labels="truth", truth=out / "truth")
    print(
        f"  city of {members:,}: simulated in {simulated:.0f} s, training set "
        f"({len(training.frame):,} members, bad rate {training.bad.mean():.2%}) in "
        f"{time.perf_counter() - started:.0f} s"
    )
    truth = pq.read_table(out / "truth" / "members.parquet").to_pandas().set_index("member_id")
    oracle = truth.loc[training.frame.index, "pd_12m"].to_numpy()
    return training.frame, training.bad, {"oracle": oracle, "params": training.params}


def city_auc(frame: pd.DataFrame, bad: Any, extra: dict[str, Any]) -> None:
    index = np.arange(len(frame))
    train, test = train_test_split(index, test_size=0.3, stratify=bad, random_state=42)
    model = Scorecard(**extra["params"]).fit(frame.iloc[train], bad[train])
    ours_auc = roc_auc_score(bad[test], model.predict_proba(frame.iloc[test])[:, 1])
    oracle_auc = roc_auc_score(bad[test], extra["oracle"][test])
    print("(c) simulated city, 70/30 hold-out AUC (label: default within 12 months of 2023-12-31)")
    print(f"  openscore    {ours_auc:.4f}")
    print(f"  oracle pd_12m {oracle_auc:.4f}   (ours - oracle {ours_auc - oracle_auc:+.4f})")


def _fit_in_child(which: str, path: str, queue: Any) -> None:
    try:
        queue.put(_fit_once(which, path))
    except Exception as error:
        queue.put(error)


def _fit_once(which: str, path: str) -> tuple[float, float]:
    frame = pd.read_parquet(path)
    bad = frame.pop("bad").to_numpy()
    started = time.perf_counter()
    if which == "openscore":
        Scorecard(**_CITY_PARAMS).fit(frame, bad)
    else:
        from optbinning import BinningProcess
        from optbinning import Scorecard as OptScorecard

        # optbinning cannot bin a column with no values at all (no connections scores yet)
        frame = frame.loc[:, frame.notna().any()]
        process = BinningProcess(list(frame.columns))
        OptScorecard(binning_process=process, estimator=LogisticRegression()).fit(frame, bad)
    seconds = time.perf_counter() - started
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_CITY_PARAMS: dict[str, Any] = {}


def training_cost(
    frame: pd.DataFrame, bad: Any, rows: int, params: dict[str, Any], workdir: Path
) -> None:
    rng = np.random.default_rng(1)
    pick = rng.integers(0, len(frame), rows)
    big = frame.iloc[pick].reset_index(drop=True).assign(bad=bad[pick])
    path = workdir / "big.parquet"
    big.to_parquet(path)
    _CITY_PARAMS.update(params)
    print(f"(d) training on {rows:,} members (city rows resampled), fresh process each")
    context = multiprocessing.get_context("fork")
    for which in ("openscore", "optbinning"):
        queue = context.Queue()
        child = context.Process(target=_fit_in_child, args=(which, str(path), queue))
        child.start()
        answer = queue.get()
        child.join()
        if isinstance(answer, Exception):
            print(f"  {which:<12} failed: {answer!r}")
            continue
        seconds, peak = answer
        print(f"  {which:<12} {seconds:6.1f} s   peak memory {peak:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller city and training size")
    args = parser.parse_args()
    members = 10_000 if args.quick else 100_000
    rows = 100_000 if args.quick else 1_000_000
    german_split()
    german_cv()
    with tempfile.TemporaryDirectory(prefix="openscore-bench-") as scratch:
        frame, bad, extra = city(members, Path(scratch))
        city_auc(frame, bad, extra)
        training_cost(frame, bad, rows, extra["params"], Path(scratch))


if __name__ == "__main__":
    main()

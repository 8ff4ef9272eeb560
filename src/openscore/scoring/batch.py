"""Score every member as of a date: features and points in the engine, records in the store.

A run computes the feature table with a feature engine (DuckDB or Spark) into a scratch
directory, scores it in the same engine with the compiled scorecard, explains every member
with NumPy (:mod:`openscore.scoring.breakdown`), then writes two things together: score
records to the store (one transaction) and ``scores/as_of=DATE/part-00000.parquet`` under the
data directory. The Parquet file is renamed into place only once the records are committed,
so a failed run leaves neither.

**Reruns.** A score record is history and is never replaced. A member who already has a
record for this ``as_of`` and model *with the same features hash* is skipped, so rerunning a
run writes no records; a member whose features changed since (a late event, a retraction)
gets a new record, which :meth:`ScoreRecords.latest` then returns. The Parquet snapshot is
the run's whole table and is replaced.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openscore.features.catalogue import feature_names
from openscore.features.engines import FeatureEngine, FeatureRequest, get_engine
from openscore.features.inputs import SCORES_SCHEMA, features_arrow_schema
from openscore.scoring.artefact import ScorecardArtefact
from openscore.scoring.breakdown import Breakdown, breakdown, reason_dicts
from openscore.scoring.compile import BAND, SCORE, TOTAL, check_columns
from openscore.scoring.inengine import score_on_duckdb, score_on_spark
from openscore.scoring.records import ScoreRecordIn, ScoreRecords, features_hash

#: Told each step's name, how many steps are done and how many there are.
Progress = Callable[[str, int, int], None]

#: The steps after the feature engine's own stages.
STEPS = ("score", "explain", "record", "write")


class BatchError(ValueError):
    """A run that cannot start or found nothing to score; nothing was written."""


@dataclass(frozen=True)
class BatchReport:
    """What a run did."""

    run_id: str
    model_version: str
    as_of: dt.datetime
    engine: str
    members: int
    recorded: int
    unchanged: int
    out: Path
    seconds: float


def scores_dir(data_dir: Path, as_of: dt.datetime) -> Path:
    """Where a run's score table goes: ``<data dir>/scores/as_of=YYYY-MM-DD``."""
    return data_dir / "scores" / f"as_of={as_of.date().isoformat()}"


def new_run_id(now: dt.datetime | None = None) -> str:
    """A run id: the UTC start time and a short random suffix."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def check_model(artefact: ScorecardArtefact) -> None:
    """Refuse a model that cannot score the feature table (a tabular model, an unknown column)."""
    if artefact.kind != "city":
        raise BatchError(
            f"model {artefact.model_id} is a {artefact.kind} model (trained on a CSV); "
            "scoring members needs a model trained on the city's features"
        )
    import ibis

    check_columns(artefact, ibis.Schema.from_pyarrow(features_arrow_schema()))


def run_batch(
    artefact: ScorecardArtefact,
    as_of: dt.datetime,
    *,
    store: Engine,
    lake: Path,
    data_dir: Path,
    engine: str = "duckdb",
    engine_config: dict[str, Any] | None = None,
    engine_options: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> BatchReport:
    """Score every member of the lake as of ``as_of`` with ``artefact``; see the module doc.

    ``engine_config`` is the feature engine's configuration (validated; unknown settings are
    errors); ``engine_options`` go to its constructor (e.g. a running Spark ``session``).
    """
    started = time.perf_counter()
    check_model(artefact)
    if not (lake / "events").is_dir():
        raise BatchError(f"no events/ directory in {lake}: is it a lake? (openscore export)")
    run_id = new_run_id()
    with Session(store) as session:
        lagged = _lagged_scores(ScoreRecords(session), as_of)
    request = FeatureRequest(as_of=as_of, lake=lake, scores=lagged)
    out = scores_dir(data_dir, as_of)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _scratch(out.parent) as scratch:
        runner = get_engine(engine, engine_config or {}, **(engine_options or {}))
        scored = _score(artefact, request, runner, scratch, progress)
        if scored.num_rows == 0:
            raise BatchError(f"no member has features as of {as_of.isoformat()} in {lake}")
        steps = _Steps(progress, STEPS)
        steps("explain")
        found = breakdown(artefact, scored)
        hashes = _hashes(scored)
        table = score_table(artefact, scored, found, hashes)
        steps("record")
        staged = scratch / "scores"
        recorded, unchanged = _record_and_stage(
            artefact, scored, found, hashes, table, store, as_of, run_id, staged, steps
        )
        _replace(staged, out)
        steps("done")
    return BatchReport(
        run_id=run_id,
        model_version=artefact.model_id,
        as_of=as_of,
        engine=engine,
        members=scored.num_rows,
        recorded=recorded,
        unchanged=unchanged,
        out=out,
        seconds=time.perf_counter() - started,
    )


def _record_and_stage(
    artefact: ScorecardArtefact,
    scored: pa.Table,
    found: Breakdown,
    hashes: list[str],
    table: pa.Table,
    store: Engine,
    as_of: dt.datetime,
    run_id: str,
    staged: Path,
    steps: _Steps,
) -> tuple[int, int]:
    """Insert the records not yet in the store and stage the Parquet table; commit last.

    Returns (records written, members skipped as already recorded with the same features).
    """
    with Session(store) as session:
        records = ScoreRecords(session)
        already = records.hashes_for(as_of, artefact.model_id)
        members = scored["member_id"].to_pylist()
        fresh = [row for row, m in enumerate(members) if hashes[row] not in already.get(m, ())]
        new = _records(artefact, scored, found, hashes, fresh, as_of, f"batch:{run_id}")
        recorded = records.add_many(new)
        steps("write")
        staged.mkdir()
        pq.write_table(table, staged / "part-00000.parquet", compression="zstd")
        session.commit()
    return recorded, len(members) - len(fresh)


class _Steps:
    """Numbers the run's own steps after the feature engine's stages for the progress bar."""

    def __init__(self, progress: Progress | None, names: tuple[str, ...]) -> None:
        self.progress, self.names = progress, names

    def __call__(self, name: str) -> None:
        if self.progress is not None:
            done = self.names.index(name) if name in self.names else len(self.names)
            self.progress(name, done, len(self.names))


def _lagged_scores(records: ScoreRecords, as_of: dt.datetime) -> pa.Table:
    rows = records.scores_until(as_of)
    return pa.table(
        {
            "member_id": [m for m, _, _ in rows],
            "as_of": [a for _, a, _ in rows],
            "score": [float(s) for _, _, s in rows],
        },
        schema=SCORES_SCHEMA,
    )


@contextmanager
def _scratch(parent: Path) -> Iterator[Path]:
    # Beside the output, so the final rename stays on one file system.
    path = Path(tempfile.mkdtemp(prefix=".run-", dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _score(
    artefact: ScorecardArtefact,
    request: FeatureRequest,
    runner: FeatureEngine,
    scratch: Path,
    progress: Progress | None,
) -> pa.Table:
    """Features into ``scratch/features``, then the compiled scorecard over them, same engine."""
    features = scratch / "features"
    try:
        runner.write(request, features, progress)
        if progress is not None:
            progress("score", 0, len(STEPS))
        if runner.name == "spark":
            return score_on_spark(artefact, features, runner.session)  # type: ignore[attr-defined]
        threads = getattr(getattr(runner, "config", None), "threads", None)
        return score_on_duckdb(artefact, features, threads=threads)
    finally:
        runner.close()


def _hashes(scored: pa.Table) -> list[str]:
    names = feature_names()
    columns = [scored[name].to_pylist() for name in names]
    rows = zip(*columns, strict=True)
    return [features_hash(dict(zip(names, values, strict=True))) for values in rows]


def score_table(
    artefact: ScorecardArtefact, scored: pa.Table, found: Breakdown, hashes: list[str]
) -> pa.Table:
    """The run's Parquet table: scores, sub-scores, model, hash and up to four reasons."""
    columns: dict[str, Any] = {
        "member_id": scored["member_id"],
        SCORE: scored[SCORE],
        BAND: scored[BAND].cast(pa.string()),
        TOTAL: scored[TOTAL],
    }
    for dimension, points in found.subscore_points.items():
        columns[f"{dimension}_points"] = pa.array(points, pa.int64())
        columns[f"{dimension}_scale"] = pa.array(found.subscore_scale[dimension], pa.float64())
    columns["model_version"] = pa.array([artefact.model_id] * scored.num_rows, pa.string())
    columns["features_hash"] = pa.array(hashes, pa.string())
    # Index -1 (no reason) picks the trailing None.
    names = np.asarray([*artefact.feature_names(), None], dtype=object)
    for j in range(found.reason_feature.shape[1]):
        index = found.reason_feature[:, j]
        columns[f"reason_{j + 1}"] = pa.array(names[index], pa.string())
        columns[f"reason_{j + 1}_below"] = pa.array(
            found.reason_below[:, j], pa.int64(), mask=index < 0
        )
    return pa.table(columns)


def _records(
    artefact: ScorecardArtefact,
    scored: pa.Table,
    found: Breakdown,
    hashes: list[str],
    rows: list[int],
    as_of: dt.datetime,
    cause: str,
) -> Iterator[ScoreRecordIn]:
    """The store's records for the given rows (a per-record build, no scoring here)."""
    members = scored["member_id"].to_pylist()
    score = scored[SCORE].to_numpy()
    band = scored[BAND].to_pylist()
    values = {name: scored[name].to_pylist() for name in artefact.feature_names()}
    dimensions = list(found.subscore_points)
    for row in rows:
        subscores = {
            d: {
                "points": int(found.subscore_points[d][row]),
                "scale": float(found.subscore_scale[d][row]),
            }
            for d in dimensions
        }
        yield ScoreRecordIn(
            member_id=members[row],
            as_of=as_of,
            score=int(score[row]),
            band=band[row],
            model_version=artefact.model_id,
            features_hash=hashes[row],
            subscores=subscores,
            reasons=reason_dicts(artefact, found, row, values),
            cause=cause,
        )


def _replace(staged: Path, out: Path) -> None:
    """Put the staged directory at ``out``, replacing an earlier run's."""
    if out.exists():
        retired = out.with_name(f".retired-{out.name}-{uuid.uuid4().hex[:8]}")
        out.rename(retired)
        staged.rename(out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staged.rename(out)

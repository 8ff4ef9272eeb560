"""The demo's data steps: simulate, ingest, export, train, score. Each can be run again.

A step that finds its work already done says so and moves on: the city is kept in the data
directory, a stamp records that it was ingested into this store, the champion model is
reused when it was trained on this lake as of the same date, and a month already scored by
the champion is not scored again. Every write is whole or absent (a file per transaction,
staged score files), so Ctrl-C at any point leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import Progress, TaskID
from sqlalchemy import Engine

from openscore.config import Settings
from openscore.demo.plan import HORIZON_MONTHS, DemoPlan
from openscore.ledger.files import discover, file_size_hint
from openscore.ledger.imports import import_file
from openscore.ledger.lake import export_lake
from openscore.ledger.schemas import IngestReport
from openscore.scoring.artefact import ScorecardArtefact


class DemoStepFailed(RuntimeError):
    """A step of the demo could not be done; ``step`` names it."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step


@dataclass(frozen=True)
class DemoContext:
    settings: Settings
    store: Engine
    plan: DemoPlan
    console: Console
    progress: Progress

    @property
    def city(self) -> Path:
        return self.plan.city_dir(self.settings.data_dir)

    def task(self, description: str, total: float | None) -> TaskID:
        return self.progress.add_task(description, total=total)


def simulate_city(ctx: DemoContext) -> None:
    from openscore.simulate.config import load_config
    from openscore.simulate.writer import write_city

    city = ctx.city
    if (city / "summary.md").exists():
        ctx.console.print(f"reusing the simulated city in {city}")
        return
    plan = ctx.plan
    config = load_config(
        None, members=plan.members, months=plan.months, seed=plan.seed, start=plan.start
    )
    task = ctx.task("simulate the city", plan.months)
    _, figures = write_city(config, city, on_month=lambda _m, _n: ctx.progress.advance(task))
    ctx.console.print(
        f"simulated {figures.members:,} members and {figures.events:,} events from "
        f"{plan.start:%B %Y} to {plan.end:%B %Y} into {city}"
    )


def _ingested_stamp(ctx: DemoContext) -> Path:
    store = hashlib.sha256(ctx.settings.resolved_database_url.encode()).hexdigest()[:16]
    return ctx.city / f".ingested-into-{store}"


def ingest_city(ctx: DemoContext) -> None:
    stamp = _ingested_stamp(ctx)
    if stamp.exists():
        ctx.console.print(f"the city is already in the ledger ({stamp.read_text().strip()})")
        return
    files = discover([ctx.city / "events"])
    total = IngestReport()
    started = time.perf_counter()
    task = ctx.task("ingest the events", sum(file_size_hint(path) for path in files))
    for path in files:
        report = import_file(
            ctx.store, path, advance=lambda amount: ctx.progress.advance(task, amount)
        )
        if report.rejected:
            raise DemoStepFailed("ingest", f"{path}: {report.rejected:,} events rejected")
        total.merge(report)
    seconds = time.perf_counter() - started
    summary = (
        f"{total.inserted:,} events inserted, {total.duplicates:,} already there, "
        f"{len(files)} files, {seconds:,.1f} s"
    )
    stamp.write_text(summary + "\n")
    ctx.console.print(f"ingested: {summary}")


def export_city(ctx: DemoContext) -> None:
    report = export_lake(ctx.store, ctx.settings.lake_dir)
    ctx.console.print(f"lake at {ctx.settings.lake_dir}: {report.exported:,} new events written")


def _models_dir(ctx: DemoContext) -> Path:
    from openscore.scoring.registry import models_dir

    return models_dir(ctx.settings)


def _trained_here(artefact: ScorecardArtefact, ctx: DemoContext) -> bool:
    training = artefact.training
    return (
        training.get("as_of") == ctx.plan.train_as_of.isoformat()
        and training.get("lake") == str(ctx.settings.lake_dir)
        and training.get("horizon_months") == HORIZON_MONTHS
    )


def train_model(ctx: DemoContext) -> ScorecardArtefact:
    from openscore.scoring.cityset import city_training_set
    from openscore.scoring.registry import champion, promote
    from openscore.scoring.training import train_and_register

    directory = _models_dir(ctx)
    current = champion(directory)
    if current is not None and _trained_here(current, ctx):
        ctx.console.print(f"reusing the champion model {current.model_id}")
        return current
    as_of = ctx.plan.train_as_of
    task = ctx.task(f"train: features as of {as_of:%Y-%m-%d}", None)

    def step(name: str, *_: object) -> None:
        ctx.progress.update(task, description=f"train: {name}")

    training = city_training_set(
        as_of,
        HORIZON_MONTHS,
        ctx.settings.lake_dir,
        progress=lambda stage, done, total: step(f"features {stage} ({done}/{total})"),
    )
    result = train_and_register(training, directory=directory, step=step)
    promote(result.artefact.model_id, directory)
    holdout = result.artefact.metrics["holdout"]
    ctx.progress.update(task, total=1, completed=1, description="train: done")
    ctx.console.print(
        f"trained {result.artefact.model_id} as of {as_of:%Y-%m-%d} (default within "
        f"{HORIZON_MONTHS} months): hold-out AUC {holdout['auc']:.3f}, KS {holdout['ks']:.3f}"
    )
    return result.artefact


def _already_scored(ctx: DemoContext, artefact: ScorecardArtefact, as_of: dt.datetime) -> bool:
    from openscore.scoring.batch import scores_dir

    files = sorted(scores_dir(ctx.settings.data_dir, as_of).glob("*.parquet"))
    if not files:
        return False
    versions = pq.read_table(files[0], columns=["model_version"]).column(0).unique()
    return bool(versions.to_pylist() == [artefact.model_id])


def score_members(ctx: DemoContext, artefact: ScorecardArtefact) -> None:
    from openscore.scoring.batch import run_batch

    months = ctx.plan.score_as_ofs
    task = ctx.task("score everyone, month by month", len(months))
    for as_of in months:
        if _already_scored(ctx, artefact, as_of):
            ctx.progress.advance(task)
            continue
        report = run_batch(
            artefact,
            as_of,
            store=ctx.store,
            lake=ctx.settings.lake_dir,
            data_dir=ctx.settings.data_dir,
            progress=_stage_reporter(ctx, task, as_of),
        )
        ctx.progress.advance(task)
        ctx.console.print(
            f"scored {report.members:,} members as of {as_of:%Y-%m-%d} "
            f"({report.recorded:,} new records) in {report.seconds:,.1f} s"
        )


def _stage_reporter(
    ctx: DemoContext, task: TaskID, as_of: dt.datetime
) -> Callable[[str, int, int], None]:
    def report(stage: str, done: int, total: int) -> None:
        ctx.progress.update(
            task, description=f"score as of {as_of:%Y-%m-%d}: {stage} ({done}/{total})"
        )

    return report

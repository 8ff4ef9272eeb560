"""``openscore score``: score every member as of a date in DuckDB or Spark, and record it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from openscore.features.cli import engine_options, parse_as_of
from openscore.scoring.cli import _err, _fail, _out


def score_command(
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of",
            metavar="DATE",
            help="YYYY-MM-DD (the end of that day, UTC) or an ISO instant with an offset.",
        ),
    ],
    engine: Annotated[str, typer.Option("--engine", help="duckdb (embedded) or spark.")] = "duckdb",
    lake: Annotated[
        Path | None,
        typer.Option("--lake", help="Lake directory (default: the data directory's lake)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="Model id in the registry, or an artefact file (default: champion)."
        ),
    ] = None,
    spark_master: Annotated[
        str | None, typer.Option("--spark-master", help="Spark master URL (default local[2]).")
    ] = None,
) -> None:
    """Score every member as of a date in the engine; write score records and Parquet."""
    # Imported here so that `openscore --help` does not load Ibis, DuckDB or the scorecard.
    from openscore.cli import open_store
    from openscore.scoring import registry
    from openscore.scoring.artefact import ArtefactError
    from openscore.scoring.batch import BatchError, run_batch
    from openscore.scoring.compile import CompileError

    instant = parse_as_of(as_of)
    config = engine_options(engine, spark_master)
    settings, store = open_store()
    try:
        artefact = registry.resolve(model, registry.models_dir(settings))
    except (ArtefactError, LookupError, FileNotFoundError) as problem:
        raise _fail(str(problem)) from None
    lake = lake or settings.lake_dir
    try:
        with _progress() as progress:
            task = progress.add_task("starting", total=None)

            def advance(step: str, done: int, total: int) -> None:
                progress.update(task, description=step, completed=done, total=total)

            report = run_batch(
                artefact,
                instant,
                store=store,
                lake=lake,
                data_dir=settings.data_dir,
                engine=engine,
                engine_config=config,
                progress=advance,
            )
    except (BatchError, CompileError, FileNotFoundError) as problem:
        raise _fail(str(problem)) from None
    rate = report.members / max(report.seconds, 1e-9)
    _out().print(
        f"scored {report.members:,} members as of {instant.isoformat()} with model "
        f"{report.model_version} on {engine} in {report.seconds:,.1f} s ({rate:,.0f}/s): "
        f"{report.recorded:,} new score records, {report.unchanged:,} already recorded "
        f"(run {report.run_id}); table written to {report.out}",
        soft_wrap=True,
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]score[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_err(),
    )

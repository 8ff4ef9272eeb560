"""``openscore features``: compute every member's features, explain one member's, list them all."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from openscore.config import get_settings
from openscore.features.catalogue import FEATURES, Dimension

features_app = typer.Typer(
    help="Features: compute every member's (the default action), explain one, list them all.",
    add_completion=False,
)


def _out() -> Console:
    # Made per command, not at import, so the terminal's width is read when it is used.
    return Console()


def _err() -> Console:
    return Console(stderr=True)


AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="DATE",
        help="YYYY-MM-DD (the end of that day, UTC) or an ISO instant with an offset.",
    ),
]
Lake = Annotated[
    Path | None,
    typer.Option("--lake", help="Lake directory (default: the data directory's lake)."),
]


def parse_as_of(text: str) -> dt.datetime:
    """A date means the end of that day in UTC; an instant must carry its offset."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return dt.datetime.combine(day, dt.time.max, dt.UTC)
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is neither YYYY-MM-DD nor an ISO instant") from None
    if instant.tzinfo is None:
        raise typer.BadParameter(f"{text!r} needs a UTC offset, e.g. {text}Z")
    return instant.astimezone(dt.UTC)


def engine_options(engine: str, spark_master: str | None) -> dict[str, Any]:
    """The engine's configuration from ``--engine`` and ``--spark-master``, the name checked
    against the registry (which imports that engine, and only that one)."""
    from openscore.features.engines import UnknownEngineError, engine_class

    config: dict[str, Any] = {}
    if spark_master is not None:
        if engine != "spark":
            raise typer.BadParameter("--spark-master needs --engine spark")
        config["master"] = spark_master
    try:
        engine_class(engine)
    except UnknownEngineError as error:
        raise typer.BadParameter(str(error.args[0]), param_hint="--engine") from None
    return config


def _require_as_of(text: str | None) -> dt.datetime:
    if text is None:
        raise typer.BadParameter("--as-of is required", param_hint="--as-of")
    return parse_as_of(text)


@features_app.callback(invoke_without_command=True)
def compute(
    ctx: typer.Context,
    as_of: AsOf = None,
    engine: Annotated[str, typer.Option("--engine", help="duckdb (embedded) or spark.")] = "duckdb",
    lake: Lake = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default: <data dir>/features/as_of=DATE)."),
    ] = None,
    spark_master: Annotated[
        str | None, typer.Option("--spark-master", help="Spark master URL (default local[2]).")
    ] = None,
) -> None:
    """Compute every member's features as of a date and write them as Parquet."""
    if ctx.invoked_subcommand is not None:
        return
    # Imported here so that `openscore --help` and other commands do not load Ibis.
    from openscore.features.engines import FeatureRequest, get_engine

    instant = _require_as_of(as_of)
    settings = get_settings()
    lake = lake or settings.lake_dir
    out = out or settings.data_dir / "features" / f"as_of={instant.date().isoformat()}"
    runner = get_engine(engine, engine_options(engine, spark_master))
    request = FeatureRequest(as_of=instant, lake=lake)
    started = time.perf_counter()
    try:
        with Progress(
            TextColumn("[bold]features[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=_err(),
        ) as progress:
            task = progress.add_task("starting", total=None)

            def advance(stage: str, done: int, total: int) -> None:
                progress.update(task, description=stage, completed=done, total=total)

            members = runner.write(request, out, advance)
    except FileNotFoundError as problem:
        _err().print(f"[red]error:[/] {problem}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        runner.close()
    seconds = time.perf_counter() - started
    _out().print(
        f"{members:,} members' features as of {instant.isoformat()} on {engine} "
        f"in {seconds:,.1f} s, written to {out}"
    )


@features_app.command("list")
def list_features() -> None:
    """Print the feature catalogue: name, dimension, description, direction, actionable."""
    table = Table(title=f"{len(FEATURES)} features")
    for column in ("feature", "dimension", "description", "direction", "actionable"):
        table.add_column(column, overflow="fold")
    for spec in FEATURES:
        table.add_row(
            spec.name,
            spec.dimension.value,
            spec.description,
            spec.direction.value.replace("_", " "),
            "yes" if spec.actionable else "no",
        )
    _out().print(table)


@features_app.command("explain")
def explain(
    member_id: Annotated[str, typer.Argument(help="The member's pseudonymous id.")],
    as_of: AsOf = None,
    lake: Lake = None,
    events_shown: Annotated[
        int, typer.Option("--events", min=0, help="Evidence events shown per feature.")
    ] = 5,
) -> None:
    """Print every feature of one member with its sentence and the events behind it."""
    from openscore.features.explain import explain_member
    from openscore.features.neighbourhood import member_inputs

    instant = _require_as_of(as_of)
    lake = lake or get_settings().lake_dir
    try:
        mine, network = member_inputs(lake, member_id)
    except FileNotFoundError as problem:
        _err().print(f"[red]error:[/] {problem}", highlight=False)
        raise typer.Exit(2) from None
    explanations = explain_member(member_id, mine, instant, network=network)
    if explanations is None:
        _err().print(f"[red]error:[/] {member_id} is not a member as of {instant.isoformat()}")
        raise typer.Exit(1)
    _out().print(f"[bold]{member_id}[/] as of {instant.isoformat()}")
    for dimension in Dimension:
        table = Table(title=dimension.value.replace("_", " "), show_lines=True)
        table.add_column("feature", overflow="fold")
        table.add_column("value", justify="right")
        table.add_column("what it means", overflow="fold")
        table.add_column("evidence", overflow="fold")
        for item in explanations:
            if item.spec.dimension is not dimension:
                continue
            table.add_row(
                item.spec.name,
                _format(item.value),
                item.spec.description,
                _evidence_text(item.evidence, events_shown),
            )
        _out().print(table)


def _format(value: int | float | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return f"{value:,}"


def _evidence_text(evidence: list[dict[str, Any]], shown: int) -> str:
    if not evidence:
        return "no events"
    lines = (
        [
            f"{row['occurred_at']:%Y-%m-%d} {row['type']} ({row['source']} · {row['event_id']})"
            for row in evidence[-shown:]
        ]
        if shown
        else []
    )
    hidden = len(evidence) - len(lines)
    if hidden:
        lines.insert(0, f"{len(evidence)} events, latest {len(lines)}:" if lines else "")
    return "\n".join(line for line in lines if line) or f"{len(evidence)} events"

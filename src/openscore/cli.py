"""The ``openscore`` command line: operators' tools and the demo."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import Engine

from openscore.api.cli import attest_app, keys_app, members_app, partners_app, serve, staff_app
from openscore.config import Settings, get_settings
from openscore.db.engine import make_engine, upgrade
from openscore.features.cli import features_app
from openscore.ledger.files import BATCH_SIZE, FileProblem, discover, file_size_hint
from openscore.ledger.imports import import_file, rejects_file
from openscore.ledger.lake import export_lake
from openscore.ledger.repository import LedgerRepository
from openscore.ledger.schemas import IngestReport
from openscore.ledger.service import IngestRejected
from openscore.scoring.batch_cli import score_command
from openscore.scoring.cli import (
    evaluate_command,
    explain_command,
    models_app,
    train_command,
    whatif_command,
)
from openscore.simulate.cli import simulate_command

app = typer.Typer(
    help="OpenScore: an open, explainable, consent-based credit and trust score.",
    no_args_is_help=True,
    add_completion=False,
)
ledger_app = typer.Typer(help="Look into the ledger.", no_args_is_help=True)
db_app = typer.Typer(help="The system of record's schema.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
app.add_typer(db_app, name="db")
app.command("simulate")(simulate_command)
app.add_typer(features_app, name="features")
app.command("serve")(serve)
app.add_typer(partners_app, name="partners")
app.add_typer(staff_app, name="staff")
app.add_typer(members_app, name="members")
app.add_typer(keys_app, name="keys")
app.add_typer(attest_app, name="attest")
app.command("score")(score_command)
app.command("train")(train_command)
app.command("evaluate")(evaluate_command)
app.command("explain")(explain_command)
app.command("whatif")(whatif_command)
app.add_typer(models_app, name="models")

console = Console()
errors = Console(stderr=True)


def open_store(settings: Settings | None = None) -> tuple[Settings, Engine]:
    """Settings and an engine whose schema is up to date."""
    settings = settings or get_settings()
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    return settings, engine


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=False,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (runs by itself before every command)."""
    settings, _ = open_store()
    console.print(f"schema up to date at {settings.resolved_database_url}")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Event files, or directories of them.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate only; write nothing.")
    ] = False,
    skip_invalid: Annotated[
        Path | None,
        typer.Option(
            "--skip-invalid",
            metavar="REJECTS.jsonl",
            help="Import the valid records and write each rejected one, with its errors, here.",
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=1_000_000)] = BATCH_SIZE,
) -> None:
    """Import events from JSONL, CSV or Parquet files; each file is all or nothing."""
    try:
        files = discover(paths)
    except FileProblem as problem:
        errors.print(f"[red]error:[/red] {problem}")
        raise typer.Exit(2) from None
    _, engine = open_store()
    total = IngestReport()
    refused: list[Path] = []
    started = time.perf_counter()
    with _progress() as progress, rejects_file(skip_invalid) as rejects:
        for path in files:
            task = progress.add_task(path.name, total=file_size_hint(path) or None)
            try:
                report = import_file(
                    engine,
                    path,
                    dry_run=dry_run,
                    rejects=rejects,
                    batch_size=batch_size,
                    advance=_advancer(progress, task),
                )
            except IngestRejected as rejection:
                report = rejection.report
                refused.append(path)
            progress.update(task, completed=progress.tasks[task].total or 0)
            total.merge(report)
    seconds = time.perf_counter() - started
    _print_ingest_summary(total, files, refused, dry_run=dry_run, rejects_path=skip_invalid)
    handled = total.inserted + total.duplicates + total.rejected
    rate = handled / max(seconds, 1e-9)
    console.print(f"{handled:,} records in {seconds:,.1f} s ({rate:,.0f} records/s)")
    if refused:
        raise typer.Exit(1)


def _advancer(progress: Progress, task: TaskID) -> Callable[[int], None]:
    return lambda amount: progress.advance(task, amount)


def _print_ingest_summary(
    report: IngestReport,
    files: list[Path],
    refused: list[Path],
    *,
    dry_run: bool,
    rejects_path: Path | None,
) -> None:
    table = Table(title="dry run: nothing written" if dry_run else "ingested")
    for column in ("event type", "inserted", "duplicates", "rejected"):
        table.add_column(column, justify="left" if column == "event type" else "right")
    for event_type in sorted(report.by_type):
        counts = report.by_type[event_type]
        table.add_row(
            event_type, f"{counts.inserted:,}", f"{counts.duplicates:,}", f"{counts.rejected:,}"
        )
    table.add_section()
    table.add_row("total", f"{report.inserted:,}", f"{report.duplicates:,}", f"{report.rejected:,}")
    console.print(table)
    verb = "would be" if dry_run else "were"
    console.print(f"{len(files) - len(refused)} of {len(files)} file(s) {verb} accepted.")
    for error in report.errors:
        errors.print(f"[red]{error.where()}[/red]: {error.message}", soft_wrap=True)
    hidden = report.error_count - len(report.errors)
    if hidden > 0:
        errors.print(f"... and {hidden:,} more error(s)")
    if refused:
        names = ", ".join(str(p) for p in refused)
        errors.print(f"[red]refused, nothing written from:[/red] {names}", soft_wrap=True)
    if rejects_path is not None and report.rejected and not refused:
        console.print(f"{report.rejected:,} rejected record(s) written to {rejects_path}")


@app.command()
def export(
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Lake directory (default: the data directory's lake)."),
    ] = None,
) -> None:
    """Write every event not yet exported to the Parquet lake, partitioned by month."""
    settings, engine = open_store()
    lake = to or settings.lake_dir
    with _progress() as progress:
        task = progress.add_task("export", total=None)
        report = export_lake(engine, lake, advance=lambda n: progress.advance(task, n))
        progress.update(task, total=report.exported, completed=report.exported)
    if not report.exported:
        console.print(f"nothing new to export; {lake} is up to date")
        return
    console.print(
        f"exported {report.exported:,} events (seq {report.from_seq}..{report.to_seq}) "
        f"into {len(report.files)} file(s) under {report.lake / 'events'}"
    )


@ledger_app.command("show")
def ledger_show(
    member_id: Annotated[str, typer.Argument(help="The member's pseudonymous id.")],
) -> None:
    """Print a member's events in time order, with their provenance."""
    _, engine = open_store()
    with engine.connect() as connection:
        repository = LedgerRepository(connection)
        member = repository.member(member_id)
        rows = repository.member_events(member_id)
    if member is None and not rows:
        errors.print(f"[red]error:[/red] no member {member_id!r} in the ledger")
        raise typer.Exit(1)
    retracted = {(r.source, _retracted_id(r.fields)) for r in rows if r.type == "event_retracted"}
    if member is not None:
        console.print(
            f"[bold]{member_id}[/bold]: {member.status} since {member.status_changed_at:%Y-%m-%d}, "
            f"enrolled {member.enrolled_at:%Y-%m-%d} under terms {member.terms_version}, "
            f"connections dimension {'on' if member.connections_opt_in else 'off'}"
        )
    table = Table(show_lines=True)
    table.add_column("occurred (UTC)", no_wrap=True)
    table.add_column("event", overflow="fold")
    table.add_column("provenance", overflow="fold")
    for row in rows:
        mark = " [red](retracted)[/red]" if (row.source, row.event_id) in retracted else ""
        table.add_row(
            f"{row.occurred_at:%Y-%m-%d %H:%M}",
            f"[bold]{row.type}[/bold]{mark}\n{_details(row.fields)}",
            f"{row.source} · {row.event_id}\nreceived {row.received_at:%Y-%m-%d %H:%M:%S} "
            f"via {row.channel}: {row.origin}",
        )
    console.print(table)
    console.print(f"{len(rows)} event(s)")


def _retracted_id(fields: str) -> str | None:
    import orjson

    value = orjson.loads(fields).get("retracted_event_id")
    return str(value) if value is not None else None


def _details(fields: str) -> str:
    import orjson

    return ", ".join(f"{k}={v}" for k, v in orjson.loads(fields).items())


@ledger_app.command("summary")
def ledger_summary() -> None:
    """Print what the ledger holds: members, events by type and by source."""
    settings, engine = open_store()
    _print_summary(settings, engine)


def _print_summary(settings: Settings, engine: Engine) -> None:
    with engine.connect() as connection:
        repository = LedgerRepository(connection)
        by_type = repository.counts_by_type()
        by_source = repository.counts_by_source()
        statuses = repository.member_status_counts()
        first, last, max_seq = repository.event_span()
    console.print(f"[bold]ledger[/bold] at {settings.resolved_database_url}")
    members = ", ".join(f"{n:,} {status}" for status, n in sorted(statuses.items())) or "none"
    console.print(f"members: {members}")
    if first and last:
        console.print(
            f"events: {sum(by_type.values()):,} from {first:%Y-%m-%d} to {last:%Y-%m-%d} "
            f"(last seq {max_seq:,})"
        )
    console.print(_count_table("events by type", "type", by_type))
    console.print(_count_table("events by source", "source", by_source))


def _count_table(title: str, label: str, counts: dict[str, int]) -> Table:
    table = Table(title=title)
    table.add_column(label)
    table.add_column("events", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    return table


@app.command()
def demo(
    members: Annotated[
        int, typer.Option(min=200, max=1_000_000, help="Members in the city.")
    ] = 10_000,
    months: Annotated[int, typer.Option(min=18, max=36, help="Months of city life.")] = 24,
    seed: Annotated[int, typer.Option(help="The city's random seed.")] = 7,
    check: Annotated[
        bool,
        typer.Option(
            help="Check the service over HTTP (member page, partner query, "
            "attestation) and exit instead of serving."
        ),
    ] = False,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port (with --check, 0 picks a free one).")
    ] = 8000,
) -> None:
    """The whole platform on embedded defaults: simulate a city ending last month, ingest it,
    export the lake, train the scorecard, score everyone month by month, then serve it with
    demo members, a partner and an auditor to sign in as.

    Everything is kept in the data directory, so running the demo again reuses what is there.
    Ctrl-C stops it cleanly at any point.
    """
    from openscore.demo.pipeline import DemoStepFailed
    from openscore.demo.plan import DemoPlan
    from openscore.demo.run import run_demo

    settings = get_settings()
    plan = DemoPlan.ending_last_month(members, months, seed)
    try:
        run_demo(
            settings,
            plan,
            check=check,
            host=host,
            port=port if not check or port != 8000 else 0,
            console=console,
        )
    except DemoStepFailed as failure:
        errors.print(f"[red]demo failed at step {failure.step!r}:[/red] {failure}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        errors.print("stopped; nothing is half-written, and the next run picks up from here")
        raise typer.Exit(130) from None

"""``openscore simulate``: write a synthetic city (events, truth, summary) or ingest it."""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from openscore.simulate.clock import Month, PeriodError, check_period
from openscore.simulate.config import ConfigError, SimulationConfig, load_config
from openscore.simulate.summary import percent
from openscore.simulate.tomlout import to_toml
from openscore.simulate.writer import OutputError, write_city


class FileFormat(enum.StrEnum):
    """Event file formats."""

    parquet = "parquet"
    jsonl = "jsonl"


class LedgerIngestError(RuntimeError):
    """The ledger refused a month of the city."""


def _ingest_into_ledger(engine: Any, path: Path) -> None:
    """Import one month file into the ledger (one transaction); fail loudly if refused."""
    from openscore.ledger.imports import import_file
    from openscore.ledger.service import IngestRejected

    try:
        import_file(engine, path)
    except IngestRejected as rejected:
        problems = "; ".join(f"{e.where()}: {e.message}" for e in rejected.report.errors[:5])
        raise LedgerIngestError(f"the ledger refused {path.parent.name}: {problems}") from None


def _ledger_engine() -> Any:
    from openscore.config import get_settings
    from openscore.db.engine import make_engine, upgrade

    engine = make_engine(get_settings().resolved_database_url)
    upgrade(engine)
    return engine


def config_text(config: SimulationConfig) -> str:
    """The effective configuration as TOML."""
    header = (
        "# Effective simulator configuration. Every key is documented in the packaged\n"
        "# city.toml (src/openscore/simulate/city.toml); money is in major units."
    )
    return to_toml(config.model_dump(mode="python"), header)


def simulate_command(
    members: Annotated[
        int | None, typer.Option(help="Number of members (default from the config: 10000).")
    ] = None,
    months: Annotated[
        int | None, typer.Option(help="Number of months to simulate (default 24).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default 7).")] = None,
    start: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="First day of the period (default 2023-01-01)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Directory to create for the city.")] = Path("city"),
    file_format: Annotated[
        FileFormat, typer.Option("--format", help="Event file format.")
    ] = FileFormat.parquet,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML file of parameters (see --print-config).")
    ] = None,
    print_config: Annotated[
        bool, typer.Option("--print-config", help="Print the effective configuration and exit.")
    ] = False,
    into_ledger: Annotated[
        bool,
        typer.Option(
            "--into-ledger",
            help="Ingest the events into the ledger instead of writing events/ "
            "(truth/ and summary.md still go to --out).",
        ),
    ] = False,
) -> None:
    """Simulate a city: members, their lives, a social graph, and the ground truth."""
    console = Console(stderr=True)
    try:
        settings = load_config(
            config,
            members=members,
            months=months,
            seed=seed,
            start=start.date() if start else None,
        )
        if print_config:
            typer.echo(config_text(settings), nl=False)
            return
        city = settings.city
        check_period(city.start, city.months, dt.datetime.now(dt.UTC))
        ledger = (_ledger_engine(), _ingest_into_ledger) if into_ledger else None
        with Progress(
            TextColumn("[bold]simulating[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[events]:,} events"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("", total=city.months, events=0)

            def advance(month: Month, count: int) -> None:
                done = progress.tasks[task].fields["events"] + count
                progress.update(task, advance=1, description=month.label, events=done)

            _, figures = write_city(
                settings, out, file_format=file_format.value, ledger=ledger, on_month=advance
            )
    except (ConfigError, PeriodError, OutputError, LedgerIngestError) as error:
        console.print(f"[red]error:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
    where = "the ledger" if into_ledger else f"{out}/events"
    console.print(
        f"{figures.members:,} members, {figures.events:,} events into {where}; "
        f"truth in {out}/truth, summary in {out}/summary.md; annual default rate "
        f"{percent(figures.annual_default_rate)}"
    )

"""The demo from start to finish: data steps, people, then the service (or its check)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from openscore.config import Settings
from openscore.db.engine import make_engine, upgrade
from openscore.demo.cast import AUDITOR, DemoCast, make_cast, pick_members
from openscore.demo.pipeline import (
    DemoContext,
    DemoStepFailed,
    export_city,
    ingest_city,
    score_members,
    simulate_city,
    train_model,
)
from openscore.demo.plan import DemoPlan

T = TypeVar("T")

ROLES = {
    "excellent": "in the excellent band",
    "recovering": "recovering from a job loss or illness",
    "judgment": "with a court judgment still open",
}


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def prepare(settings: Settings, plan: DemoPlan, console: Console) -> DemoCast:
    """Every data step, then the cast. Raises DemoStepFailed naming the step that failed."""
    store = make_engine(settings.resolved_database_url)
    upgrade(store)
    with _progress(console) as progress:
        ctx = DemoContext(settings, store, plan, console, progress)
        steps: list[tuple[str, Callable[[], object]]] = [
            ("simulate", lambda: simulate_city(ctx)),
            ("ingest", lambda: ingest_city(ctx)),
            ("export", lambda: export_city(ctx)),
        ]
        for name, step in steps:
            _run(name, step)
        artefact = _run("train", lambda: train_model(ctx))
        _run("score", lambda: score_members(ctx, artefact))
    picked = _run(
        "cast", lambda: pick_members(settings.data_dir, settings.lake_dir, ctx.city, plan)
    )
    missing = sorted(set(ROLES) - set(picked))
    if missing:
        console.print(f"[yellow]no member in this city is {', '.join(missing)}[/yellow]")
    if not picked:
        raise DemoStepFailed("cast", "no member to show: is the city too small?")
    return _run("cast", lambda: make_cast(store, picked, settings.data_dir, plan))


def _run(name: str, step: Callable[[], T]) -> T:
    try:
        return step()
    except DemoStepFailed:
        raise
    except (OSError, ValueError, LookupError, RuntimeError) as error:
        raise DemoStepFailed(name, f"{type(error).__name__}: {error}") from error


def print_cast(console: Console, cast: DemoCast, base: str) -> None:
    """Sign-in details as plain lines, so nothing is cut and each can be copied whole."""
    console.print(f"[bold]members[/bold] sign in at {base}/signin:")
    for member in cast.members:
        console.print(
            f"  {member.member_id}  password {member.password}  score {member.score} "
            f"({member.band}), {ROLES.get(member.role, member.role)}; "
            f"{cast.partner_id} knows them as {member.pseudonym}",
            soft_wrap=True,
            highlight=False,
        )
    console.print(
        f"[bold]partner[/bold] {cast.partner_id}: {base}/partner, API key {cast.partner_key}",
        soft_wrap=True,
        highlight=False,
    )
    console.print(
        f"[bold]auditor[/bold] {AUDITOR}: {base}/auditor, API key {cast.auditor_key}",
        soft_wrap=True,
        highlight=False,
    )
    console.print(f"API documentation: {base}/docs", highlight=False)


def run_demo(
    settings: Settings,
    plan: DemoPlan,
    *,
    check: bool,
    host: str,
    port: int,
    console: Console,
) -> None:
    """Prepare, then serve until Ctrl-C, or with ``check`` run the HTTP checks and return."""
    import uvicorn

    from openscore.api.app import create_app, settle_for_serving
    from openscore.demo.check import check_service, running

    started = time.perf_counter()
    cast = prepare(settings, plan, console)
    console.print(f"ready in {time.perf_counter() - started:,.0f} s")
    app = _run("serve", lambda: create_app(settings))
    if check:
        with running(app, host, port or free_port(host)) as base:
            print_cast(console, cast, base)
            for line in check_service(base, cast):
                console.print(f"[green]ok[/green] {line}")
        console.print("[green]demo check passed[/green]")
        return
    base = f"http://{host}:{port}"
    print_cast(console, cast, base)
    settle_for_serving()
    console.print("serving; press Ctrl-C to stop")
    uvicorn.run(app, host=host, port=port, log_level="warning")

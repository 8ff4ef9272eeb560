"""``openscore train | evaluate | explain | whatif | models``: the scorecard, by command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from openscore.config import get_settings
from openscore.features.cli import parse_as_of

models_app = typer.Typer(help="The model registry: list, show, promote.", no_args_is_help=True)


def _out() -> Console:
    return Console()


def _err() -> Console:
    return Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    _err().print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _models_dir() -> Path:
    from openscore.scoring.registry import models_dir

    return models_dir(get_settings())


def train_command(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="City: features as of this date.")
    ] = None,
    horizon: Annotated[int, typer.Option(min=1, max=60, help="Months the label looks ahead.")] = 12,
    lake: Annotated[Path | None, typer.Option(help="Lake (default: the data dir's).")] = None,
    labels: Annotated[str, typer.Option(help="ledger (default) or truth.")] = "ledger",
    truth: Annotated[Path | None, typer.Option(help="The simulator's truth/ directory.")] = None,
    engine: Annotated[str, typer.Option(help="Feature engine: duckdb or spark.")] = "duckdb",
    csv: Annotated[Path | None, typer.Option("--csv", help="Train on a CSV instead.")] = None,
    target: Annotated[str | None, typer.Option(help="CSV: the 0/1 or two-label column.")] = None,
    bad_label: Annotated[
        str | None, typer.Option(help="CSV: the target value that is bad.")
    ] = None,
    holdout: Annotated[float, typer.Option(min=0.05, max=0.5, help="Hold-out share.")] = 0.3,
) -> None:
    """Train a scorecard on the city (--as-of) or a CSV (--csv), register it, print its id."""
    from openscore.scoring.tabular import CsvProblem, tabular_training_set
    from openscore.scoring.training import train_and_register

    if (csv is None) == (as_of is None):
        raise _fail("give either --as-of DATE (the city) or --csv FILE --target COLUMN")
    with _progress() as progress:
        task = progress.add_task("reading the data", total=None)

        def step(name: str, *_: Any) -> None:
            progress.update(task, description=name)

        try:
            if csv is not None:
                if target is None:
                    raise _fail("--csv needs --target COLUMN")
                training = tabular_training_set(csv, target, bad_label)
            else:
                training = _city_set(as_of or "", horizon, lake, labels, truth, engine, step)
            result = train_and_register(
                training, holdout=holdout, directory=_models_dir(), step=step
            )
        except (CsvProblem, FileNotFoundError, ValueError) as problem:
            raise _fail(str(problem)) from None
    holdout_metrics = result.artefact.metrics["holdout"]
    _err().print(
        f"hold-out AUC {holdout_metrics['auc']:.4f}, KS {holdout_metrics['ks']:.4f}, "
        f"Gini {holdout_metrics['gini']:.4f} on {holdout_metrics['rows']:,} rows; "
        f"card: {result.path.with_suffix('.card.md')}",
        highlight=False,
    )
    for name in result.card["data"].get("left_out_protected", []):
        _err().print(f"left out (protected attribute): {name}", highlight=False)
    _out().print(result.artefact.model_id, highlight=False)


def _city_set(
    as_of: str,
    horizon: int,
    lake: Path | None,
    labels: str,
    truth: Path | None,
    engine: str,
    step: Any,
) -> Any:
    from openscore.scoring.cityset import city_training_set

    if labels not in ("ledger", "truth"):
        raise typer.BadParameter("ledger or truth", param_hint="--labels")
    instant = parse_as_of(as_of)
    return city_training_set(
        instant,
        horizon,
        lake or get_settings().lake_dir,
        labels=labels,  # type: ignore[arg-type]
        truth=truth,
        engine=engine,
        progress=lambda stage, done, total: step(f"features: {stage} ({done}/{total})"),
    )


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn(), console=_err()
    )


def evaluate_command(
    csv: Annotated[Path, typer.Option("--csv", help="The test CSV.")],
    target: Annotated[str, typer.Option(help="The 0/1 or two-label column.")],
    model: Annotated[str | None, typer.Option(help="Model id (default: the latest).")] = None,
    bad_label: Annotated[str | None, typer.Option(help="The target value that is bad.")] = None,
) -> None:
    """Print AUC, KS, Gini and the score distribution of a model on a CSV."""
    from openscore.scoring import metrics, registry
    from openscore.scoring.artefact import ArtefactError
    from openscore.scoring.estimator import Scorecard
    from openscore.scoring.tabular import CsvProblem, read_csv

    directory = _models_dir()
    chosen = model or registry.latest_id(directory)
    if chosen is None:
        raise _fail(f"no model in {directory}: train one first")
    try:
        artefact = registry.load_model(chosen, directory)
        data = read_csv(csv, target, bad_label)
    except (registry.UnknownModelError, ArtefactError, CsvProblem) as problem:
        raise _fail(str(problem)) from None
    missing = [f.name for f in artefact.features if f.name not in data.frame.columns]
    if missing:
        raise _fail(f"{csv}: line 1: model {chosen} needs columns {', '.join(missing)}")
    scorer = Scorecard.from_artefact(artefact)
    totals = scorer.total_points(data.frame)
    scores = scorer.scores(data.frame)
    out = _out()
    out.print(f"model {chosen} on {csv} ({len(scores):,} rows, bad = {data.bad_label!r})")
    if 0 < data.bad.sum() < len(data.bad):
        found = metrics.discrimination(data.bad, totals)
        out.print(f"AUC {found['auc']:.4f}  KS {found['ks']:.4f}  Gini {found['gini']:.4f}")
    else:
        out.print("AUC, KS, Gini: not defined (only one class in the target)")
    _print_distribution(artefact, scores, data.bad)


def _print_distribution(artefact: Any, scores: Any, bad: Any) -> None:
    from openscore.scoring import metrics

    shares = metrics.band_shares(artefact, scores)
    table = Table(title="scores per band")
    for column in ("band", "from", "share", "bad rate"):
        table.add_column(column, justify="left" if column == "band" else "right")
    lowers = [b.lower for b in artefact.bands] + [artefact.scaling.max_score + 1]
    for band, low, high in zip(artefact.bands, lowers, lowers[1:], strict=False):
        inside = (scores >= low) & (scores < high)
        rate = f"{100 * bad[inside].mean():.1f}%" if inside.any() else "–"
        table.add_row(band.name, str(band.lower), f"{100 * shares[band.name]:.1f}%", rate)
    _out().print(table)
    buckets = metrics.histogram(scores, artefact.scaling.min_score, artefact.scaling.max_score, 50)
    peak = max((n for _, n in buckets), default=0) or 1
    for start, count in buckets:
        _out().print(f"{start:>4}–{start + 49:<4} {'█' * round(40 * count / peak):<40} {count:,}")
    deciles = ", ".join(f"{d:.0f}" for d in metrics.deciles(scores))
    _out().print(f"deciles: {deciles}")


def _member_score(member_id: str, as_of: str | None, model: str | None, lake: Path | None) -> Any:
    import datetime as dt

    from openscore.cli import open_store
    from openscore.scoring import registry
    from openscore.scoring.artefact import ArtefactError
    from openscore.scoring.member import explain_score, member_events, network_events

    try:
        artefact = registry.resolve(model, _models_dir())
    except (registry.UnknownModelError, ArtefactError, FileNotFoundError) as problem:
        raise _fail(str(problem)) from None
    instant = parse_as_of(as_of) if as_of else dt.datetime.now(dt.UTC)
    settings, engine = open_store()
    events = member_events(engine, member_id)
    if events.num_rows == 0:
        raise _fail(f"no member {member_id!r} in the ledger", 1)
    network = network_events(lake or settings.lake_dir, member_id)
    explained = explain_score(artefact, member_id, events, instant, network=network)
    if explained is None:
        raise _fail(f"{member_id} is not a member as of {instant.isoformat()}", 1)
    return artefact, explained, instant


AsOf = Annotated[str | None, typer.Option("--as-of", help="Date or instant (default: now).")]
Model = Annotated[
    str | None, typer.Option(help="Model id or artefact file (default: the champion).")
]
Lake = Annotated[Path | None, typer.Option(help="Lake for the connections' network.")]


def explain_command(
    member_id: Annotated[str, typer.Argument(help="The member's pseudonymous id.")],
    as_of: AsOf = None,
    model: Model = None,
    lake: Lake = None,
    events_shown: Annotated[int, typer.Option("--events", min=0)] = 3,
) -> None:
    """Print a member's score, band, five sub-scores and principal reasons with evidence."""
    artefact, explained, instant = _member_score(member_id, as_of, model, lake)
    result = explained.result
    out = _out()
    out.print(
        f"[bold]{member_id}[/] as of {instant:%Y-%m-%d}: [bold]{result.score}[/] "
        f"({result.band}) by model {artefact.model_id}",
        highlight=False,
    )
    _print_subscores(result)
    if not result.reasons:
        out.print("no reasons: every feature earns its best points")
    for number, reason in enumerate(result.reasons, 1):
        out.print(
            f"{number}. [bold]{reason.feature}[/] {reason.points_below_best} points below its "
            f"best. {reason.sentence}",
            highlight=False,
        )
        if reason.advice:
            out.print(f"   what would help: {reason.advice}", highlight=False)
        elif not reason.actionable:
            out.print("   (a record of the past, not something to change)")
        for row in reason.evidence[-events_shown:] if events_shown else []:
            out.print(
                f"   {row['occurred_at'][:10]} {row['type']} ({row['source']} · {row['event_id']})",
                highlight=False,
            )
        if len(reason.evidence) > events_shown:
            out.print(f"   … {len(reason.evidence)} events in all")


def _print_subscores(result: Any) -> None:
    table = Table(title=f"total {result.total} = intercept {result.intercept_points} + dimensions")
    for column in ("dimension", "points", "0–100"):
        table.add_column(column, justify="left" if column == "dimension" else "right")
    for name, sub in result.subscores.items():
        table.add_row(name.replace("_", " "), f"{sub.points:+d}", f"{sub.scale:.0f}")
    if result.clipped:
        table.add_row("clipped to the range", f"{result.clipped:+d}", "")
    _out().print(table)


def _parse_set(items: list[str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{item!r}: expected FEATURE=VALUE", param_hint="--set")
        try:
            changes[name.strip()] = float(text)
        except ValueError:
            changes[name.strip()] = text
    return changes


def whatif_command(
    member_id: Annotated[str, typer.Argument(help="The member's pseudonymous id.")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="FEATURE=VALUE, repeatable.")
    ] = None,
    as_of: AsOf = None,
    model: Model = None,
    lake: Lake = None,
) -> None:
    """Score the member with changed features, and say what reaches the next band."""
    from openscore.scoring.display import is_money, shown_value
    from openscore.scoring.whatif import WhatIfError, what_can_i_do, whatif

    changes = _parse_set(set_ or [])
    artefact, explained, _ = _member_score(member_id, as_of, model, lake)
    out = _out()
    if changes:
        try:
            answer = whatif(artefact, explained.features, changes)
        except WhatIfError as problem:
            raise _fail(str(problem)) from None
        out.print(
            f"now {answer.before.score} ({answer.before.band}); with the changes "
            f"{answer.after.score} ({answer.after.band}), {answer.delta:+d}",
            highlight=False,
        )
        features = artefact.by_name
        for change in answer.changes:
            money = is_money(features[change.feature])
            before = shown_value(change.before, money=money)
            after = shown_value(change.after, money=money)
            out.print(
                f"  {change.feature}: {before} → {after}: {change.points:+d} points",
                highlight=False,
            )
    plan = what_can_i_do(artefact, explained.features)
    if plan.band is None:
        out.print("already in the top band")
        return
    verb = "reaches" if plan.reachable else "is the most actionable changes can do toward"
    out.print(
        f"what you can do: {len(plan.steps)} change(s) worth {plan.points} points {verb} "
        f"{plan.band} ({plan.points_needed} needed)",
        highlight=False,
    )
    for step in plan.steps:
        out.print(
            f"  {step.condition()}: +{step.gain} points (e.g. {step.value:g})"
            if not isinstance(step.value, str)
            else f"  {step.condition()}: +{step.gain} points",
            highlight=False,
        )


@models_app.command("list")
def models_list() -> None:
    """Every registered model, oldest first; the champion is marked."""
    from openscore.scoring.registry import list_models

    entries = list_models(_models_dir())
    if not entries:
        _out().print(f"no models in {_models_dir()}")
        return
    table = Table()
    for column in ("", "model", "kind", "target", "created", "hold-out AUC"):
        table.add_column(column)
    for entry in entries:
        table.add_row(
            "★" if entry.champion else "",
            entry.model_id,
            entry.kind,
            entry.target,
            f"{entry.created_at:%Y-%m-%d %H:%M}",
            "–" if entry.auc is None else f"{entry.auc:.4f}",
        )
    _out().print(table)


@models_app.command("show")
def models_show(
    model_id: Annotated[str | None, typer.Argument(help="Default: the champion.")] = None,
) -> None:
    """Print a model's card."""
    from openscore.scoring import registry

    directory = _models_dir()
    chosen = model_id or registry.champion_id(directory)
    if chosen is None:
        raise _fail(f"no models in {directory}")
    path = directory / f"{chosen}.card.md"
    if not path.exists():
        raise _fail(f"no model {chosen!r} in {directory}")
    _out().print(path.read_text(encoding="utf-8"), highlight=False, markup=False)


@models_app.command("promote")
def models_promote(model_id: Annotated[str, typer.Argument()]) -> None:
    """Make a model the champion (the one the service and batch scoring use)."""
    from openscore.scoring import registry

    try:
        registry.promote(model_id, _models_dir())
    except registry.UnknownModelError as problem:
        raise _fail(str(problem)) from None
    _out().print(f"{model_id} is now the champion")

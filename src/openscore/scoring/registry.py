"""The model registry: artefacts and model cards as files under ``<data dir>/models``.

```
models/<model_id>.json        the scorecard artefact
models/<model_id>.card.md     its model card, for people
models/<model_id>.card.json   the same, for programs (the web pages read it)
models/CHAMPION               the id of the one champion model
```

The first model registered becomes the champion; later ones are challengers until promoted.
Every write is a temporary file renamed into place, so a reader never sees half a file and
the champion is always exactly one model.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from openscore.config import Settings, get_settings
from openscore.scoring.artefact import ScorecardArtefact, load_artefact

CHAMPION_FILE = "CHAMPION"
_MODEL_ID = re.compile(r"^sc-\d{8}T\d{6}Z-[0-9a-f]{8}$")


class UnknownModelError(LookupError):
    """No model with that id in the registry."""


def models_dir(settings: Settings | None = None) -> Path:
    """The registry directory of the configured data directory."""
    return (settings or get_settings()).data_dir / "models"


def new_model_id(created_at: dt.datetime, content: bytes) -> str:
    """``sc-<UTC time>-<8 hex digits of the content's sha256>``."""
    stamp = created_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"sc-{stamp}-{hashlib.sha256(content).hexdigest()[:8]}"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class ModelEntry:
    """One registered model as the list shows it."""

    model_id: str
    kind: str
    target: str
    created_at: dt.datetime
    auc: float | None
    champion: bool


def register(
    artefact: ScorecardArtefact,
    card_markdown: str,
    card: dict[str, Any],
    directory: Path | None = None,
) -> Path:
    """Write the artefact and its card; the first model becomes champion. Returns the path."""
    directory = directory or models_dir()
    path = directory / f"{artefact.model_id}.json"
    if path.exists():
        raise FileExistsError(f"model {artefact.model_id} is already registered")
    _write(
        directory / f"{artefact.model_id}.card.json", orjson.dumps(card, option=orjson.OPT_INDENT_2)
    )
    _write(directory / f"{artefact.model_id}.card.md", card_markdown.encode())
    _write(path, artefact.to_json())  # last: a model is listed only once its card exists
    if champion_id(directory) is None:
        promote(artefact.model_id, directory)
    return path


def _created_at(path: Path) -> dt.datetime:
    # Ids carry their creation time only to the second, so two models trained within one
    # second are ordered by the artefact's own timestamp (kept to the microsecond).
    return dt.datetime.fromisoformat(orjson.loads(path.read_bytes())["created_at"])


def model_ids(directory: Path | None = None) -> list[str]:
    """Every registered model id, oldest first (by creation time, then id)."""
    directory = directory or models_dir()
    if not directory.is_dir():
        return []
    paths = [p for p in directory.glob("sc-*.json") if not p.name.endswith(".card.json")]
    return [p.stem for p in sorted(paths, key=lambda p: (_created_at(p), p.stem))]


def load_model(model_id: str, directory: Path | None = None) -> ScorecardArtefact:
    """The artefact of a registered model."""
    directory = directory or models_dir()
    if not _MODEL_ID.match(model_id) or not (directory / f"{model_id}.json").exists():
        known = ", ".join(model_ids(directory)[-5:]) or "none"
        raise UnknownModelError(f"no model {model_id!r} in {directory} (latest: {known})")
    return load_artefact(directory / f"{model_id}.json")


def load_card(model_id: str, directory: Path | None = None) -> dict[str, Any]:
    """The model card (JSON) of a registered model."""
    directory = directory or models_dir()
    path = directory / f"{model_id}.card.json"
    if not path.exists():
        raise UnknownModelError(f"no model card for {model_id!r} in {directory}")
    card: dict[str, Any] = orjson.loads(path.read_bytes())
    return card


def champion_id(directory: Path | None = None) -> str | None:
    """The champion's id, or None before any model is registered."""
    path = (directory or models_dir()) / CHAMPION_FILE
    if not path.exists():
        return None
    return path.read_text(encoding="utf-8").strip() or None


def champion(directory: Path | None = None) -> ScorecardArtefact | None:
    """The champion's artefact (what the service scores with), or None if there is none."""
    chosen = champion_id(directory)
    return None if chosen is None else load_model(chosen, directory)


def resolve(model: str | None, directory: Path | None = None) -> ScorecardArtefact:
    """The model a command names: a registry id, a path to an artefact file, or (None) the
    champion. Raises ``UnknownModelError`` for an unknown id or when there is no champion."""
    directory = directory or models_dir()
    if model is not None and (model.endswith(".json") or Path(model).is_file()):
        return load_artefact(model)
    if model is not None:
        return load_model(model, directory)
    chosen = champion(directory)
    if chosen is None:
        raise UnknownModelError(
            f"no champion model in {directory}: train one first "
            "(openscore train) or name one with --model"
        )
    return chosen


def latest_id(directory: Path | None = None) -> str | None:
    """The most recently created model's id."""
    ids = model_ids(directory)
    return ids[-1] if ids else None


def promote(model_id: str, directory: Path | None = None) -> None:
    """Make ``model_id`` the one champion."""
    directory = directory or models_dir()
    load_model(model_id, directory)  # refuses an unknown id
    _write(directory / CHAMPION_FILE, f"{model_id}\n".encode())


def list_models(directory: Path | None = None) -> list[ModelEntry]:
    """Every model, oldest first, with its hold-out AUC and whether it is champion."""
    directory = directory or models_dir()
    current = champion_id(directory)
    entries = []
    for model_id in model_ids(directory):
        artefact = load_model(model_id, directory)
        area = artefact.metrics.get("holdout", {}).get("auc")
        entries.append(
            ModelEntry(
                model_id,
                artefact.kind,
                artefact.target,
                artefact.created_at,
                area,
                model_id == current,
            )
        )
    return entries

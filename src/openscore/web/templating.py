"""The Jinja2 environment of the pages and the static files they link to.

Static files are served by the pages router itself (``/static/NAME``) from this package and,
for ``plotly.min.js``, from inside the installed plotly package: nothing is fetched from the
internet. Each URL carries a version (the package's, or plotly's for its bundle) so browsers
may cache the files for a year and still see a new release at once.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import plotly
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

import openscore

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class StaticFile:
    """A static file's bytes, gzipped bytes and media type, read once per process."""

    body: bytes
    gzipped: bytes
    media_type: str


def static_version(name: str) -> str:
    return plotly.__version__ if name == "plotly.min.js" else openscore.__version__


def static_url(name: str) -> str:
    """The versioned URL of a static file."""
    return f"/static/{static_version(name)}/{name}"


def static_path(name: str) -> Path | None:
    """Where a served static file lives; None for any name not served."""
    if name == "plotly.min.js":
        return PLOTLY_JS
    path = STATIC_DIR / name
    # Only plain files directly in static/ (no "..", no sub-directories).
    if "/" in name or name.startswith(".") or not path.is_file():
        return None
    return path


@cache
def static_file(name: str) -> StaticFile | None:
    path = static_path(name)
    if path is None:
        return None
    body = path.read_bytes()
    # plotly.min.js is 4.8 MB; gzipped it is under a third of that. Compressed once, here.
    return StaticFile(body, gzip.compress(body, 6, mtime=0), MEDIA_TYPES[path.suffix])


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = static_url
    return env


@cache
def templates() -> Jinja2Templates:
    """The pages' templates (one environment per process; templates are read once)."""
    return Jinja2Templates(env=environment())


def render(name: str, **context: Any) -> str:
    """A template rendered to text, for tests and for callers without a request."""
    return templates().env.get_template(name).render(**context)

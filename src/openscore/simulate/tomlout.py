"""A TOML writer for the simulator's config (``tomllib`` only reads).

The config holds tables, arrays of tables, and scalars or flat arrays, which is all this
writes; ``tomllib`` reads the output back to the same config (a test checks it).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _table(lines: list[str], header: str, values: dict[str, Any]) -> None:
    lines.append(header)
    for key, value in values.items():
        if not isinstance(value, dict) and not _is_table_array(value):
            lines.append(f"{key} = {_value(value)}")
    name = header.strip("[]")
    for key, value in values.items():
        if isinstance(value, dict):
            lines.append("")
            _table(lines, f"[{name}.{key}]", value)
        elif _is_table_array(value):
            for item in value:
                lines.append("")
                _table(lines, f"[[{name}.{key}]]", item)


def to_toml(data: dict[str, dict[str, Any]], header: str = "") -> str:
    """TOML text for a mapping of section name to section values."""
    lines = [header] if header else []
    for section, values in data.items():
        if lines:
            lines.append("")
        _table(lines, f"[{section}]", values)
    return "\n".join(lines) + "\n"

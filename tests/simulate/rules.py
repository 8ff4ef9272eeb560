"""The ledger's ordering rules for importing a directory of event files, checked in Python."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any


def check_ingestion_order(files: Iterable[tuple[str, list[dict[str, Any]]]]) -> list[str]:
    """Problems the ledger would find importing these files in the given (sorted) order.

    Each file's rows are wide-form or JSON dicts. Returns a list of problems (empty if none).
    """
    problems: list[str] = []
    enrolled: set[str] = set()
    seen: dict[tuple[str, str], str] = {}
    for name, rows in files:
        previous: dt.datetime | None = None
        for line, row in enumerate(rows, 1):
            where = f"{name}:{line}"
            at = row["occurred_at"]
            if previous is not None and at < previous:
                problems.append(f"{where}: not in occurred_at order")
            previous = at
            key = (row["source"], row["event_id"])
            if key in seen:
                problems.append(f"{where}: duplicate {key}")
            seen[key] = row["member_id"]
            if row["type"] == "member_enrolled":
                enrolled.add(row["member_id"])
            elif row["member_id"] not in enrolled:
                problems.append(f"{where}: {row['type']} before enrolment of {row['member_id']}")
            if row.get("peer_member_id") and row["peer_member_id"] not in enrolled:
                problems.append(f"{where}: peer {row['peer_member_id']} not enrolled")
            if row["type"] == "event_retracted":
                target = (row["source"], row["retracted_event_id"])
                if seen.get(target) != row["member_id"]:
                    problems.append(f"{where}: retracts {target} not seen for the same member")
    return problems

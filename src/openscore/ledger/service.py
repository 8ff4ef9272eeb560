"""The ledger's rules for appending events: validate everything, refuse conflicts, append once.

One ``Ingestion`` is one import inside one transaction (a file, or an API batch). It is fed
chunks of parsed records and, besides what the catalogue checks, enforces what needs the
ledger: members must be enrolled before anything is said about them, a retraction must name
an earlier event of the same source about the same member, and the same (source, event_id)
with different content is a conflict, never an overwrite. Whether the transaction commits is
the caller's decision (``finish`` raises ``IngestRejected`` when it must not).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Engine

from openscore.db.tables import NETWORK_TYPES
from openscore.ledger.canonical import Prepared, prepare_event
from openscore.ledger.catalogue import EventBase
from openscore.ledger.files import Chunk
from openscore.ledger.repository import LedgerRepository
from openscore.ledger.schemas import IngestError, IngestReport
from openscore.ledger.validation import Parsed

#: Event types whose arrival changes a member's network token (``change_networks``).
_NETWORK = frozenset(NETWORK_TYPES)

#: The members cache is cleared past this size, so memory stays flat however many there are.
MEMBER_CACHE_LIMIT = 500_000

Rejected = Parsed | Prepared
RejectSink = Callable[[Rejected, list[IngestError]], None]


class IngestRejected(Exception):
    """The import was refused as a whole; the report says why, by position."""

    def __init__(self, report: IngestReport) -> None:
        super().__init__(f"{report.error_count} error(s); nothing was written")
        self.report = report


class Ingestion:
    """One all-or-nothing import (unless rejects are diverted to a sink)."""

    def __init__(
        self,
        repository: LedgerRepository,
        *,
        channel: str,
        origin: str,
        file: str | None = None,
        now: dt.datetime | None = None,
        rejects: RejectSink | None = None,
    ) -> None:
        self.repository = repository
        self.file = file
        self.now = now or dt.datetime.now(dt.UTC)
        self.rejects = rejects
        self.report = IngestReport()
        self.fatal = False
        self._known_members: set[str] = set()
        self._known_sources: set[str] = set()
        self._ingestion_id = repository.begin_append(channel, origin, self.now)

    def feed(self, chunk: Chunk) -> None:
        """Check and append one chunk of records."""
        for parsed in chunk.rejected:
            self._reject(parsed, [self._error(parsed, f, m) for f, m in parsed.errors])
        if chunk.fatal:
            self.fatal = True
        # Appending goes on after an error, inside the transaction that will then be rolled
        # back, so that the report also lists the errors only the ledger can find (conflicts,
        # unknown members): every error, not just the first kind.
        if chunk.events and not self.fatal:
            self._append(chunk.events)

    def finish(self) -> IngestReport:
        """The report; raises ``IngestRejected`` when the transaction must not commit."""
        self.report.errors.sort(key=lambda e: (e.file or "", e.line or 0, e.index or 0))
        if self.fatal or (self.report.error_count and self.rejects is None):
            raise IngestRejected(self.report)
        self.report.committed = True
        return self.report

    # --- the checks that need the ledger ----------------------------------------------

    def _append(self, events: list[Prepared]) -> None:
        """Append a chunk: optimistically as all-new, exactly when something was already there.

        Almost every chunk of a first import is new, so it is appended as it is, under a
        savepoint, and the database's unique key on (source, event_id) confirms it. If any
        key repeats (stored already, or twice in the chunk), the savepoint is rolled back and
        the chunk appended again after sorting true duplicates from conflicts.
        """
        self._register_sources(events)
        savepoint = self.repository.connection.begin_nested()
        if self._try_append(events, known_new=False):
            savepoint.commit()
            return
        savepoint.rollback()
        self._known_members.clear()  # it may hold members enrolled only inside the savepoint
        fresh = self._separate_known(events)
        if not self._try_append(fresh, known_new=True):
            # Appends are serialised (LedgerRepository.begin_append), so nothing else can have
            # written these keys since we looked; refuse rather than miscount.
            raise RuntimeError("events appeared in the ledger during an import")

    def _try_append(self, fresh: list[Prepared], *, known_new: bool) -> bool:
        """Check and insert; False (chunk half-done, to roll back) if a key was already stored."""
        self.repository.enrol([_enrolment(e) for e in fresh if e.type == "member_enrolled"])
        errors: dict[int, list[IngestError]] = {}
        self._check_members(fresh, errors)
        self._check_retractions(fresh, errors)
        accepted = [e for position, e in enumerate(fresh) if position not in errors]
        self.repository.record_departures(
            [(e.member_id, e.occurred_at) for e in accepted if e.type == "member_left"]
        )
        if not self.repository.insert_events(accepted, all_new=known_new):
            return False
        self.repository.change_networks(e.member_id for e in accepted if e.type in _NETWORK)
        for event_type, inserted in Counter(e.type for e in accepted).items():
            self.report.count(event_type, inserted=inserted)
        for position, found in sorted(errors.items()):
            self._reject(fresh[position], found)
        return True

    def _separate_known(self, events: list[Prepared]) -> list[Prepared]:
        """The events new to the ledger. A key stored already, or seen earlier in the chunk, is
        a duplicate with the same content (counted) and a conflict with other content."""
        known = self.repository.stored_content((e.source, e.event_id) for e in events)
        fresh: list[Prepared] = []
        duplicates: Counter[str] = Counter()
        for e in events:
            key = (e.source, e.event_id)
            content = known.get(key)
            if content is None:
                known[key] = e.content
                fresh.append(e)
            elif content == e.content:
                duplicates[e.type] += 1
            else:
                self._reject(e, [self._conflict(e)])
        for event_type, repeated in duplicates.items():
            self.report.count(event_type, duplicates=repeated)
        return fresh

    def _register_sources(self, events: Sequence[Prepared]) -> None:
        new = {e.source for e in events} - self._known_sources
        if new:
            self.repository.ensure_sources(sorted(new), self.now)
            self._known_sources |= new

    def _check_members(
        self, events: Sequence[Prepared], errors: dict[int, list[IngestError]]
    ) -> None:
        wanted = {e.member_id for e in events if e.type != "member_enrolled"}
        wanted |= {e.peer_member_id for e in events if e.peer_member_id is not None}
        unknown = wanted - self._known_members
        if unknown:
            found = self.repository.known_members(unknown)
            if len(self._known_members) + len(found) > MEMBER_CACHE_LIMIT:
                self._known_members.clear()
            self._known_members |= found
        known = self._known_members
        for position, e in enumerate(events):
            if e.type != "member_enrolled" and e.member_id not in known:
                errors.setdefault(position, []).append(
                    self._error(e, "member_id", _not_enrolled(e.member_id))
                )
            if e.peer_member_id is not None and e.peer_member_id not in known:
                errors.setdefault(position, []).append(
                    self._error(e, "peer_member_id", _not_enrolled(e.peer_member_id))
                )

    def _check_retractions(
        self, events: Sequence[Prepared], errors: dict[int, list[IngestError]]
    ) -> None:
        retractions = [(p, e) for p, e in enumerate(events) if e.retracted_event_id is not None]
        if not retractions:
            return
        by_source: dict[str, list[str]] = {}
        for _, e in retractions:
            by_source.setdefault(e.source, []).append(e.retracted_event_id or "")
        found = {
            (source, event_id): member
            for source, ids in by_source.items()
            for event_id, member in self.repository.event_members(source, ids).items()
        }
        missing = {(e.source, e.retracted_event_id) for _, e in retractions} - found.keys()
        if missing:  # the retracted event may come earlier in this very chunk
            found.update(
                {
                    (e.source, e.event_id): e.member_id
                    for p, e in enumerate(events)
                    if p not in errors and (e.source, e.event_id) in missing
                }
            )
        for position, e in retractions:
            target = (e.source, e.retracted_event_id or "")
            member = found.get(target)
            if member is None:
                message = (
                    f"no event {target[1]!r} from {target[0]} to retract; a source can only "
                    "retract its own earlier events"
                )
            elif member != e.member_id:
                message = f"event {target[1]!r} is about another member, not {e.member_id!r}"
            else:
                continue
            errors.setdefault(position, []).append(self._error(e, "retracted_event_id", message))

    # --- bookkeeping -----------------------------------------------------------------------

    def _conflict(self, e: Prepared) -> IngestError:
        message = (
            f"event_id {e.event_id!r} from {e.source} is already in the ledger "
            "with different content; send a new event_id, or retract the earlier event "
            "and send a corrected one"
        )
        return self._error(e, "event_id", message)

    def _error(self, record: Rejected, field_name: str | None, message: str) -> IngestError:
        return IngestError(
            file=self.file,
            line=record.line,
            index=record.position,
            field=field_name,
            message=message,
        )

    def _reject(self, record: Rejected, errors: list[IngestError]) -> None:
        event_type = record.type if isinstance(record, Prepared) else record.type_hint
        self.report.reject(event_type, errors)
        if self.rejects is not None:
            self.rejects(record, errors)


def _not_enrolled(member_id: str) -> str:
    return (
        f"member {member_id!r} is not enrolled: a member_enrolled event must come first "
        "(in the ledger or earlier in this import)"
    )


def _enrolment(event: Prepared) -> dict[str, Any]:
    return {
        "member_id": event.member_id,
        "status": "enrolled",
        "status_changed_at": event.occurred_at,
        "enrolled_at": event.occurred_at,
        "terms_version": event.terms_version,
        "connections_opt_in": event.connections_opt_in,
    }


def ingest_events(
    engine: Engine,
    events: Iterable[EventBase],
    *,
    origin: str,
    channel: str = "library",
    batch_size: int = 10_000,
) -> IngestReport:
    """Append already-built catalogue events in one transaction (all or nothing)."""
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as connection:
        ingestion = Ingestion(LedgerRepository(connection), channel=channel, origin=origin, now=now)
        chunk = Chunk()
        for index, event in enumerate(events):
            chunk.events.append(prepare_event(event, position=index))
            if len(chunk) >= batch_size:
                ingestion.feed(chunk)
                chunk = Chunk()
        if len(chunk):
            ingestion.feed(chunk)
        return ingestion.finish()

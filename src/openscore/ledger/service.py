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
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from openscore.ledger.catalogue import (
    EVENT_MODELS,
    ConnectionMade,
    ConnectionRemoved,
    EventBase,
    EventRetracted,
    MemberEnrolled,
    MemberLeft,
    type_fields,
)
from openscore.ledger.files import Chunk
from openscore.ledger.repository import LedgerRepository
from openscore.ledger.schemas import IngestError, IngestReport
from openscore.ledger.validation import Parsed

#: The members cache is cleared past this size, so memory stays flat however many there are.
MEMBER_CACHE_LIMIT = 500_000

RejectSink = Callable[[Parsed, list[IngestError]], None]

_FIELDS_OF: dict[str, set[str]] = {
    model.model_fields["type"].annotation.__args__[0]: set(type_fields(model))  # type: ignore[union-attr]
    for model in EVENT_MODELS
}


class IngestRejected(Exception):
    """The import was refused as a whole; the report says why, by position."""

    def __init__(self, report: IngestReport) -> None:
        super().__init__(f"{report.error_count} error(s); nothing was written")
        self.report = report


def content_hash(event: EventBase, fields_json: str) -> str:
    """Fingerprint of an event's content, to tell a true duplicate from a conflict."""
    envelope = "\x1f".join(
        (
            str(event.schema_version),
            event.source,
            event.event_id,
            event.type,  # type: ignore[attr-defined]
            event.member_id,
            event.occurred_at.isoformat(),
        )
    )
    digest = hashlib.blake2b(envelope.encode() + b"\x1f" + fields_json.encode(), digest_size=16)
    return digest.hexdigest()


def fields_json(event: EventBase) -> str:
    """The type's own fields as stored in the ``fields`` column (nulls left out)."""
    serializer = event.__pydantic_serializer__
    return serializer.to_json(event, include=_FIELDS_OF[event.type], exclude_none=True).decode()  # type: ignore[attr-defined]


@dataclass
class _Candidate:
    parsed: Parsed
    event: EventBase
    fields: str
    digest: str
    errors: list[IngestError] = field(default_factory=list)


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
        candidates: list[_Candidate] = []
        for parsed in chunk.records:
            if parsed.event is None:
                self._reject(parsed, [self._error(parsed, f, m) for f, m in parsed.errors])
            else:
                text = fields_json(parsed.event)
                candidates.append(
                    _Candidate(parsed, parsed.event, text, content_hash(parsed.event, text))
                )
        if chunk.fatal:
            self.fatal = True
        # Appending goes on after an error, inside the transaction that will then be rolled
        # back, so that the report also lists the errors only the ledger can find (conflicts,
        # unknown members) - every error, not just the first kind.
        if candidates and not self.fatal:
            self._append(candidates)

    def finish(self) -> IngestReport:
        """The report; raises ``IngestRejected`` when the transaction must not commit."""
        self.report.errors.sort(key=lambda e: (e.file or "", e.line or 0, e.index or 0))
        if self.fatal or (self.report.error_count and self.rejects is None):
            raise IngestRejected(self.report)
        self.report.committed = True
        return self.report

    # --- the checks that need the ledger ----------------------------------------------

    def _append(self, candidates: list[_Candidate]) -> None:
        """Append a chunk: optimistically as all-new, exactly when something was already there.

        Almost every chunk of a first import is new, so it is appended under a savepoint and
        the insert's row count confirms it. If some rows were already stored (a re-run, an
        overlapping file), the savepoint is rolled back and the chunk is appended again after
        sorting true duplicates from conflicts against the stored content hashes.
        """
        fresh = self._separate_in_chunk(candidates)
        self._register_sources(fresh)
        savepoint = self.repository.connection.begin_nested()
        if self._try_append(fresh):
            savepoint.commit()
            return
        savepoint.rollback()
        self._known_members.clear()  # it may hold members enrolled only inside the savepoint
        for c in fresh:
            c.errors.clear()
        fresh = self._separate_stored(fresh)
        if not self._try_append(fresh):
            # Appends are serialised (LedgerRepository.begin_append), so nothing else can have
            # written these keys since we looked; refuse rather than miscount.
            raise RuntimeError("events appeared in the ledger during an import")

    def _try_append(self, fresh: list[_Candidate]) -> bool:
        """Check and insert; False (with the chunk half-done) when some key was already stored."""
        self.repository.enrol(
            [_enrolment(c.event) for c in fresh if isinstance(c.event, MemberEnrolled)]
        )
        self._check_members(fresh)
        self._check_retractions(fresh)
        accepted = [c for c in fresh if not c.errors]
        self.repository.record_departures(
            [
                (c.event.member_id, c.event.occurred_at)
                for c in accepted
                if isinstance(c.event, MemberLeft)
            ]
        )
        received = self.now
        rows = [
            (
                c.event.source,
                c.event.event_id,
                c.event.type,  # type: ignore[attr-defined]
                c.event.member_id,
                c.event.occurred_at,
                received,
                c.event.schema_version,
                c.fields,
                c.digest,
                self._ingestion_id,
            )
            for c in accepted
        ]
        if self.repository.insert_events(rows) != len(rows):
            return False
        self._count(Counter(c.event.type for c in accepted), "inserted")  # type: ignore[attr-defined]
        for c in fresh:
            if c.errors:
                self._reject(c.parsed, c.errors)
        return True

    def _separate_in_chunk(self, candidates: list[_Candidate]) -> list[_Candidate]:
        """Drop repeats of a key within the chunk (duplicates counted, conflicts refused)."""
        first: dict[tuple[str, str], str] = {}
        fresh: list[_Candidate] = []
        duplicates: Counter[str] = Counter()
        for c in candidates:
            key = (c.event.source, c.event.event_id)
            known = first.get(key)
            if known is None:
                first[key] = c.digest
                fresh.append(c)
            elif known == c.digest:
                duplicates[c.event.type] += 1  # type: ignore[attr-defined]
            else:
                self._reject(c.parsed, [self._conflict(c)])
        self._count(duplicates, "duplicates")
        return fresh

    def _separate_stored(self, candidates: list[_Candidate]) -> list[_Candidate]:
        """Of a chunk's events, those not yet stored; stored ones are duplicates or conflicts."""
        stored = self.repository.stored_hashes(
            (c.event.source, c.event.event_id) for c in candidates
        )
        fresh: list[_Candidate] = []
        duplicates: Counter[str] = Counter()
        for c in candidates:
            known = stored.get((c.event.source, c.event.event_id))
            if known is None:
                fresh.append(c)
            elif known == c.digest:
                duplicates[c.event.type] += 1  # type: ignore[attr-defined]
            else:
                self._reject(c.parsed, [self._conflict(c)])
        self._count(duplicates, "duplicates")
        return fresh

    def _conflict(self, c: _Candidate) -> IngestError:
        message = (
            f"event_id {c.event.event_id!r} from {c.event.source} is already in the ledger "
            "with different content; send a new event_id, or retract the earlier event "
            "and send a corrected one"
        )
        return self._error(c.parsed, "event_id", message)

    def _count(self, counts: Counter[str], what: str) -> None:
        for event_type, number in counts.items():
            if what == "inserted":
                self.report.count(event_type, inserted=number)
            else:
                self.report.count(event_type, duplicates=number)

    def _register_sources(self, candidates: Sequence[_Candidate]) -> None:
        new = {c.event.source for c in candidates} - self._known_sources
        if new:
            self.repository.ensure_sources(sorted(new), self.now)
            self._known_sources |= new

    def _check_members(self, candidates: Sequence[_Candidate]) -> None:
        wanted: set[str] = set()
        for c in candidates:
            if not isinstance(c.event, MemberEnrolled):
                wanted.add(c.event.member_id)
            if isinstance(c.event, ConnectionMade | ConnectionRemoved):
                wanted.add(c.event.peer_member_id)
        unknown = wanted - self._known_members
        if unknown:
            found = self.repository.known_members(unknown)
            if len(self._known_members) + len(found) > MEMBER_CACHE_LIMIT:
                self._known_members.clear()
            self._known_members |= found
        for c in candidates:
            if (
                not isinstance(c.event, MemberEnrolled)
                and c.event.member_id not in self._known_members
            ):
                c.errors.append(
                    self._error(c.parsed, "member_id", _not_enrolled(c.event.member_id))
                )
            if isinstance(c.event, ConnectionMade | ConnectionRemoved):
                peer = c.event.peer_member_id
                if peer not in self._known_members:
                    c.errors.append(self._error(c.parsed, "peer_member_id", _not_enrolled(peer)))

    def _check_retractions(self, candidates: Sequence[_Candidate]) -> None:
        retractions = [c for c in candidates if isinstance(c.event, EventRetracted)]
        if not retractions:
            return
        in_chunk = {
            (c.event.source, c.event.event_id): c.event.member_id
            for c in candidates
            if not c.errors
        }
        by_source: dict[str, list[str]] = {}
        for c in retractions:
            by_source.setdefault(c.event.source, []).append(c.event.retracted_event_id)  # type: ignore[attr-defined]
        stored = {
            (source, event_id): member
            for source, ids in by_source.items()
            for event_id, member in self.repository.event_members(source, ids).items()
        }
        for c in retractions:
            target = (c.event.source, c.event.retracted_event_id)  # type: ignore[attr-defined]
            member = stored.get(target) or in_chunk.get(target)
            if member is None:
                message = (
                    f"no event {target[1]!r} from {target[0]} to retract; a source can only "
                    "retract its own earlier events"
                )
                c.errors.append(self._error(c.parsed, "retracted_event_id", message))
            elif member != c.event.member_id:
                message = f"event {target[1]!r} is about another member, not {c.event.member_id!r}"
                c.errors.append(self._error(c.parsed, "retracted_event_id", message))

    # --- bookkeeping -----------------------------------------------------------------------

    def _error(self, parsed: Parsed, field_name: str | None, message: str) -> IngestError:
        return IngestError(
            file=self.file, line=parsed.line, index=parsed.index, field=field_name, message=message
        )

    def _reject(self, parsed: Parsed, errors: list[IngestError]) -> None:
        event_type = parsed.event.type if parsed.event is not None else parsed.type_hint  # type: ignore[attr-defined]
        self.report.reject(event_type, errors)
        if self.rejects is not None:
            self.rejects(parsed, errors)


def _not_enrolled(member_id: str) -> str:
    return (
        f"member {member_id!r} is not enrolled: a member_enrolled event must come first "
        "(in the ledger or earlier in this import)"
    )


def _enrolment(event: EventBase) -> dict[str, Any]:
    assert isinstance(event, MemberEnrolled)
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
        batch: list[Parsed] = []
        for index, event in enumerate(events):
            batch.append(Parsed(None, event, type_hint=event.type, index=index))  # type: ignore[attr-defined]
            if len(batch) >= batch_size:
                ingestion.feed(Chunk(batch))
                batch = []
        if batch:
            ingestion.feed(Chunk(batch))
        return ingestion.finish()

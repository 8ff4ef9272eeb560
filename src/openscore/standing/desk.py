"""Partners' standing queries, answered in batches: one transaction and one commit for each.

Every answer to a partner is a write: its entry in the member's access log, committed
before the answer leaves. Answered one per transaction, each query pays a whole turn at the
store's writers (on SQLite, the process's write lock and a sync of the WAL to disk) and two
trips to FastAPI's thread pool, and under load those, not the reads, set the pace. The desk
is a thread of its own that takes every query waiting when it comes round, up to
:data:`MOST`, and answers them in one transaction: one turn at the lock, one commit, no
thread pool (the endpoint awaits its answer on the event loop). This is group commit, as
databases do it for their own logs.

What does not change: each query is authorised by its grant in the transaction that writes
its access-log entry (``service.partner_standings``, which the partner page calls, through
``partner_standing``, for one query in its own unit of work), and no answer is sent before
that transaction committed. A query refused by its grant is refused alone (nothing is
written for it). An error of the store fails every query of its batch, and nothing of the
batch is kept.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import queue
import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from openscore.attest.repository import SigningKeysRepository
from openscore.attest.service import KeyRing
from openscore.db.dialect import WRITERS, abandon_unit_of_work, finish_unit_of_work
from openscore.rights.repository import RightsRepository
from openscore.scoring.records import ScoreRecords
from openscore.standing import service
from openscore.standing.schemas import StandingOut, StandingQuery

log = logging.getLogger(__name__)

#: The most queries answered in one transaction. Bounds how long other writers wait for the
#: lock behind a batch (a few milliseconds a query).
MOST = 64


#: A query's answer, or what was raised instead (its refusal, or the batch's failure).
Outcome = StandingOut | BaseException


@dataclass(frozen=True, slots=True)
class _Waiting:
    query: StandingQuery
    future: asyncio.Future[StandingOut]


class StandingDesk:
    """Answers partners' standing queries in batches, on a thread of its own."""

    def __init__(
        self, sessions: sessionmaker[Session], writers: threading.Lock, key_ring: KeyRing
    ) -> None:
        self._sessions = sessions
        self._writers = writers
        self._key_ring = key_ring
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start = threading.Lock()
        #: Batches answered, and queries in them (for operators and tests).
        self.batches = 0
        self.answered = 0

    async def ask(self, query: StandingQuery) -> StandingOut:
        """The answer to ``query``, once the transaction that logged it committed.

        Raises what answering raised: the grant's refusal, or the store's error.
        """
        waiting = _Waiting(query, asyncio.get_running_loop().create_future())
        self._ensure_worker()
        self._queue.put(waiting)
        return await waiting.future

    def answer(self, queries: list[StandingQuery], now: dt.datetime) -> list[Outcome]:
        """Answer ``queries`` in one transaction: each its answer or its refusal, or all the
        store's error (and then nothing of them is kept)."""
        with self._sessions() as session:
            session.info[WRITERS] = self._writers
            try:
                outcomes: list[Outcome] = list(
                    service.partner_standings(
                        RightsRepository(session),
                        ScoreRecords(session),
                        self._key_ring,
                        SigningKeysRepository(session),
                        queries,
                        now,
                    )
                )
                finish_unit_of_work(session)
                self.batches += 1
                self.answered += len(queries)
            except Exception as error:
                abandon_unit_of_work(session)
                log.exception("a batch of %d standing queries failed", len(queries))
                return [_failed(error) for _ in queries]
        return outcomes

    def close(self) -> None:
        """Answer what is waiting, then stop the thread."""
        worker = self._worker
        if worker is None:
            return
        self._queue.put(None)
        worker.join()
        self._worker = None

    def _ensure_worker(self) -> None:
        worker = self._worker
        if worker is not None and worker.is_alive():  # every query but the first
            return
        with self._start:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._run, name="openscore-standing-desk", daemon=True
                )
                self._worker.start()

    def _run(self) -> None:
        closing = False
        while not closing:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MOST:
                try:
                    waiting = self._queue.get_nowait()
                except queue.Empty:
                    break
                if waiting is None:
                    closing = True
                    break
                batch.append(waiting)
            try:
                outcomes = self.answer([w.query for w in batch], dt.datetime.now(dt.UTC))
            except BaseException as error:  # the thread goes on answering the next batch
                outcomes = [_failed(error) for _ in batch]
            # One wake-up of each event loop for the whole batch, not one per query.
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Waiting, Outcome]]] = {}
            for waiting, outcome in zip(batch, outcomes, strict=True):
                by_loop.setdefault(waiting.future.get_loop(), []).append((waiting, outcome))
            for loop, settled in by_loop.items():
                loop.call_soon_threadsafe(_settle_all, settled)


def _failed(error: BaseException) -> BaseException:
    # One exception for each waiter: each is raised in its own request, with its own traceback.
    failure = RuntimeError("answering a batch of standing queries failed")
    failure.__cause__ = error
    return failure


def _settle_all(settled: list[tuple[_Waiting, Outcome]]) -> None:
    for waiting, outcome in settled:
        future = waiting.future
        if future.done():  # the caller went away; its query was still answered and logged
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

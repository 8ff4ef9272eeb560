"""Rescoring after large batches, in the background, one member per transaction.

Rescoring a member online takes tens of milliseconds, more with a network to read; a batch
of a thousand events about a thousand members would hold the request, and the store's write
lock, for minutes. So a batch touching more than :data:`SYNC_MEMBERS` members is committed
and answered at once, and its members go to this backlog once the commit has happened. A
worker thread rescores them one by one, each in a transaction of its own that takes the
write lock only for that member, so partners' reads and other batches interleave.

Each queued member is scored as of the moment the worker reaches them, so the record takes
in everything known by then; its ``cause`` still names the batch's event. The backlog is in
memory: members still waiting when the service stops are not rescored until their next
event or the next batch run (``openscore score``), which the stop logs.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from openscore.db.dialect import WRITERS, claim_write_lock, release_write_lock
from openscore.scoring.records import ScoreRecords
from openscore.standing.repository import StandingRepository
from openscore.standing.rescoring import Rescorer

log = logging.getLogger(__name__)

#: Batches about at most this many members are rescored before the answer (in its
#: transaction); larger ones after the commit, in the background.
SYNC_MEMBERS = 16

Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class RescoringBacklog:
    """Members waiting to be rescored, and the worker thread that rescores them."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        writers: threading.Lock,
        rescorer: Rescorer,
        clock: Clock = _utc_now,
    ) -> None:
        self._sessions = sessions
        self._writers = writers
        self._rescorer = rescorer
        self._clock = clock
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._start = threading.Lock()
        self.rescored = 0
        self.failed = 0

    def submit(self, members: dict[str, str]) -> None:
        """Queue ``member_id → cause`` for rescoring (call only after the events committed)."""
        self._ensure_worker()
        for member_id, cause in members.items():
            self._queue.put((member_id, cause))

    def pending(self) -> int:
        """Members queued or being rescored."""
        return self._queue.unfinished_tasks

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the backlog is empty (or ``timeout`` seconds passed); True if empty."""
        done = threading.Event()

        def join() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=join, daemon=True).start()
        return done.wait(timeout)

    def close(self) -> None:
        """Stop the worker after the member it is rescoring; log what was left waiting."""
        worker = self._worker
        if worker is None:
            return
        left = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            self._queue.task_done()
            left += item is not None
        self._queue.put(None)
        worker.join()
        self._worker = None
        if left:
            log.warning(
                "stopped with %d members not yet rescored; their next event or the next "
                "batch run (openscore score) scores them",
                left,
            )

    def _ensure_worker(self) -> None:
        with self._start:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._run, name="openscore-rescoring", daemon=True
                )
                self._worker.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._rescore_one(*item)
            finally:
                self._queue.task_done()

    def _rescore_one(self, member_id: str, cause: str) -> None:
        with self._sessions() as session:
            session.info[WRITERS] = self._writers
            try:
                claim_write_lock(session)
                self._rescorer.rescore(
                    StandingRepository(session),
                    ScoreRecords(session),
                    member_id,
                    cause=cause,
                    as_of=self._clock(),
                )
                session.commit()
                self.rescored += 1
            except Exception:
                # One member's failure must not stop the others; it is logged with the cause.
                session.rollback()
                self.failed += 1
                log.exception("rescoring %s after %s failed", member_id, cause)
            finally:
                release_write_lock(session)

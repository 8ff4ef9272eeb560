"""What ingestion answers: counts per event type and every error by position."""

from __future__ import annotations

from pydantic import BaseModel, Field

#: A report lists this many errors in full and counts the rest.
MAX_REPORTED_ERRORS = 100


class IngestError(BaseModel):
    """One problem with one record: where it is, which field, and what is wrong."""

    file: str | None = None
    line: int | None = Field(
        default=None, description="1-based line (JSONL, CSV) or row (Parquet) in the file."
    )
    index: int | None = Field(default=None, description="0-based position in an API batch.")
    field: str | None = None
    message: str

    def where(self) -> str:
        """``events.csv:12 [amount]``-style location for people reading a terminal."""
        place = self.file or "batch"
        if self.line is not None:
            place += f":{self.line}"
        if self.index is not None:
            place += f"[{self.index}]"
        return f"{place} {self.field}" if self.field else place


class TypeCounts(BaseModel):
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0


class IngestReport(BaseModel):
    """The outcome of one import: committed or not, with what it wrote and what it refused."""

    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    by_type: dict[str, TypeCounts] = Field(default_factory=dict)
    errors: list[IngestError] = Field(default_factory=list)
    error_count: int = 0
    committed: bool = False

    def count(self, event_type: str, *, inserted: int = 0, duplicates: int = 0) -> None:
        counts = self.by_type.setdefault(event_type, TypeCounts())
        counts.inserted += inserted
        counts.duplicates += duplicates
        self.inserted += inserted
        self.duplicates += duplicates

    def reject(self, event_type: str, errors: list[IngestError]) -> None:
        """Record one rejected record (with all its errors)."""
        self.by_type.setdefault(event_type, TypeCounts()).rejected += 1
        self.rejected += 1
        self.add_errors(errors)

    def add_errors(self, errors: list[IngestError]) -> None:
        room = MAX_REPORTED_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])
        self.error_count += len(errors)

    def merge(self, other: IngestReport) -> None:
        """Fold another report (say, the next file's) into this one."""
        for event_type, counts in other.by_type.items():
            mine = self.by_type.setdefault(event_type, TypeCounts())
            mine.inserted += counts.inserted
            mine.duplicates += counts.duplicates
            mine.rejected += counts.rejected
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.add_errors(other.errors)
        self.error_count += other.error_count - len(other.errors)

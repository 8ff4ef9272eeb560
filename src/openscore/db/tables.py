"""Table models of the system of record. The schema itself is built by the Alembic migrations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from openscore.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
SequenceNumber = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Source(Base):
    """Who reports events: the platform, members themselves, partners and courts."""

    __tablename__ = "sources"

    source_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Member(Base):
    """A member by pseudonymous id; a projection of enrolment events. No personal data here."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    status_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    enrolled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    terms_version: Mapped[str] = mapped_column(String(20))
    connections_opt_in: Mapped[bool] = mapped_column(Boolean)
    #: A random token the ledger changes whenever the member's network events change
    #: (migration 0007): what online rescoring's memory of them is checked against.
    network_version: Mapped[int] = mapped_column(BigInteger, server_default="0")


class MemberPersonalData(Base):
    """Name and contact of a member, encrypted at rest (Fernet), apart from everything else."""

    __tablename__ = "member_personal_data"

    member_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("members.member_id", ondelete="CASCADE"), primary_key=True
    )
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Ingestion(Base):
    """One import (a file or an API batch): the provenance of every event it wrote."""

    __tablename__ = "ingestions"

    ingestion_id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


#: The event types of other members that connections features read (the feature engine's
#: ``NETWORK_EVENT_TYPES``; a test keeps the two equal), sorted. A partial index over them
#: lets online rescoring find a member's network by seeks; a query uses it only when it
#: repeats this exact condition, with literal values (:data:`NETWORK_TYPES_SQL`).
NETWORK_TYPES: tuple[str, ...] = (
    "connection_made",
    "connection_removed",
    "event_retracted",
    "group_joined",
    "group_left",
    "identity_verified",
    "loan_defaulted",
    "member_enrolled",
    "member_left",
)
NETWORK_TYPES_SQL = f"type IN ({', '.join(repr(t) for t in NETWORK_TYPES)})"

#: Group events, indexed by their group id (an expression over ``fields``) so that online
#: rescoring can find the co-members of a member's groups (migration 0005). A query uses
#: the index only when it repeats :func:`group_id_sql` and this condition exactly.
GROUP_TYPES: tuple[str, ...] = ("group_joined", "group_left")
GROUP_TYPES_SQL = f"type IN ({', '.join(repr(t) for t in GROUP_TYPES)})"
#: Indexes only the migrations know: expression indexes written differently per store.
MIGRATION_ONLY_INDEXES = frozenset({"ix_events_group"})


def field_sql(dialect: str, name: str) -> str:
    """One of an event's own fields (stored in ``fields``, as JSON) in the store's SQL."""
    if dialect == "sqlite":
        return f"json_extract(fields, '$.{name}')"
    return f"(fields::jsonb ->> '{name}')"


def group_id_sql(dialect: str) -> str:
    """A group event's ``group_id`` as the store's index on it spells it."""
    return field_sql(dialect, "group_id")


class EventRecord(Base):
    """An event as stored: envelope columns, the type's own fields as JSON, and provenance.

    No foreign keys on purpose: PostgreSQL checks them with a trigger per row, which costs
    more than half of its COPY throughput (measured: 55k against 127k rows/s). The ledger's
    ingestion service is the only writer; it registers the source and the ingestion in the
    same transaction, and a store test checks that every event's references exist.
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("source", "event_id"),
        Index("ix_events_member_occurred", "member_id", "occurred_at"),
        # Partial (network types only) and covering: the network read finds its rows and
        # every column it reads in the index, without visiting the table (migration 0006).
        Index(
            "ix_events_network_member",
            "member_id",
            "event_id",
            "type",
            "source",
            "occurred_at",
            "fields",
            sqlite_where=text(NETWORK_TYPES_SQL),
            postgresql_where=text(NETWORK_TYPES_SQL),
        ),
    )

    seq: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(80))
    event_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(40))
    member_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    schema_version: Mapped[int] = mapped_column(SmallInteger)
    fields: Mapped[str] = mapped_column(Text)
    ingestion_id: Mapped[int] = mapped_column(SequenceNumber)


class ExportWatermark(Base):
    """How far (by sequence number) each lake has been written."""

    __tablename__ = "export_watermarks"

    lake: Mapped[str] = mapped_column(Text, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ScoreRecord(Base):
    """One score of one member as of one instant, by one model version; history is kept.

    The same ledger, model version and `as_of` give the same record, so `features_hash` (of
    the feature vector the points were read from) lets anyone check a score was not forged
    or drifted. `subscores` and `reasons` are JSON: the five dimensions' points (and their
    0–100 scale for the radar), and up to four reasons with the evidence behind each.
    `cause` says what produced the record: a batch run or the event that triggered an
    online rescore.
    """

    __tablename__ = "scores"
    __table_args__ = (Index("ix_scores_member_as_of", "member_id", "as_of"),)

    score_id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    score: Mapped[int] = mapped_column(SmallInteger)
    band: Mapped[str] = mapped_column(String(20))
    model_version: Mapped[str] = mapped_column(String(80))
    features_hash: Mapped[str] = mapped_column(String(64))
    subscores: Mapped[str] = mapped_column(Text)
    reasons: Mapped[str] = mapped_column(Text)
    cause: Mapped[str] = mapped_column(String(120))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# --- the service: credentials, partners, consent, access log, signing keys (migration 0003) ---


class Partner(Base):
    """A business that reports events and asks, with members' consent, about their standing.

    ``threshold`` is the partner's own cut-off, fixed by an operator: a partner told only
    yes or no cannot bisect its way to the number by asking with other thresholds.
    """

    __tablename__ = "partners"

    partner_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[str] = mapped_column(String(200))
    threshold: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ApiKey(Base):
    """A credential of a partner, an operator or an auditor; only its SHA-256 is kept."""

    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("key_hash"),)

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    holder: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MemberCredential(Base):
    """A member's password, as an argon2id hash."""

    __tablename__ = "member_credentials"

    member_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("members.member_id", ondelete="CASCADE"), primary_key=True
    )
    password_hash: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class MemberSession(Base):
    """A signed-in member's session; only the SHA-256 of its token is kept."""

    __tablename__ = "member_sessions"
    __table_args__ = (Index("ix_member_sessions_member_id", "member_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("members.member_id", ondelete="CASCADE")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Pseudonym(Base):
    """The only name a partner knows a member by: one per member and partner, never reused."""

    __tablename__ = "pseudonyms"
    __table_args__ = (UniqueConstraint("member_id", "partner_id"),)

    pseudonym: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("members.member_id", ondelete="CASCADE")
    )
    partner_id: Mapped[str] = mapped_column(String(63), ForeignKey("partners.partner_id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ConsentGrant(Base):
    """A member's consent for one partner and purpose, at a level, until an expiry."""

    __tablename__ = "consent_grants"
    __table_args__ = (
        Index("ix_consent_grants_member_id", "member_id"),
        Index("ix_consent_grants_partner_member", "partner_id", "member_id"),
    )

    grant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("members.member_id", ondelete="CASCADE")
    )
    partner_id: Mapped[str] = mapped_column(String(63), ForeignKey("partners.partner_id"))
    purpose: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(8))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AccessLogEntry(Base):
    """One partner query of a member's standing: who, when, what was answered, under which grant."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_member_asked", "member_id", "asked_at"),)

    entry_id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64))
    partner_id: Mapped[str] = mapped_column(String(63))
    grant_id: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(8))
    answered: Mapped[str] = mapped_column(String(120))
    asked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SigningKey(Base):
    """An Ed25519 key that signs attestations; the private half only Fernet-encrypted."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(40), primary_key=True)
    public_jwk: Mapped[str] = mapped_column(Text)
    private_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

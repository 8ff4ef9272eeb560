"""Event catalogue v1: every fact the ledger accepts, as versioned pydantic models.

Each event type is a model with the common envelope (``schema_version``, ``event_id``, ``type``,
``member_id``, ``occurred_at``, ``source``) and its own fields. ``Event`` is the discriminated
union on ``type``. Money is always an integer amount of minor units plus an ISO 4217 currency.
Every type-specific field name means the same thing, with the same type, in every event type
that uses it: that is what lets the CSV and Parquet forms be one wide table (see ``wide.py``).

``docs/events.md`` documents every type and field; a test keeps it in step with this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_extra_types.currency_code import ISO4217

SCHEMA_VERSION = 1

#: How far ahead of the ledger's clock an ``occurred_at`` may be (clock skew between systems).
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def _check_schema_version(value: int) -> int:
    if value != SCHEMA_VERSION:
        raise ValueError(f"schema version {value} is not supported; this ledger reads version 1")
    return value


SchemaVersion = Annotated[int, AfterValidator(_check_schema_version)]


def null_means_default(default: Any) -> BeforeValidator:
    """For a field with a default: an explicit null is the default, as an absent field is.

    One rule in every format: an empty CSV cell and a Parquet null are absent fields, so a
    JSON null is too. (A required field that is null is still missing.)
    """

    def _null_means_default(value: Any) -> Any:
        return default if value is None else value

    return BeforeValidator(_null_means_default)


# Identifiers are opaque to the ledger, but printable and bounded so they index well and can
# never smuggle a name, an address or a sentence into a key.
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")]
MemberId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")]
#: ``platform``, ``member`` (self-declared facts), ``partner:<slug>`` or ``court:<slug>``.
SourceId = Annotated[
    str, StringConstraints(pattern=r"^(platform|member|(partner|court):[a-z0-9][a-z0-9\-]{0,62})$")
]
#: Amounts are minor units in a signed 64-bit integer, as every store and Parquet hold them.
MAX_AMOUNT = 2**63 - 1
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
PositiveAmount = Annotated[int, Field(gt=0, le=MAX_AMOUNT)]
Currency = ISO4217
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
#: A terms version: up to three dot-separated numbers of up to six digits, so at most 20
#: characters, what the members table holds (an unbounded one passed validation and then
#: failed in the store).
TERMS_VERSION_PATTERN = r"^[0-9]{1,6}(\.[0-9]{1,6}){0,2}$"

BillKind = Literal["utility", "phone", "rent"]
MerchantCategory = Literal[
    "groceries",
    "dining",
    "transport",
    "travel",
    "utilities",
    "electronics",
    "clothing",
    "health",
    "education",
    "entertainment",
    "gambling",
    "charity",
    "other",
]
PaymentChannel = Literal["card", "mobile", "transfer", "cash"]
IncomeKind = Literal["salary", "self_employment", "benefits", "pension", "other"]
EmploymentStatus = Literal["employed", "self_employed", "unemployed", "student", "retired"]
Education = Literal["none", "primary", "secondary", "vocational", "bachelor", "master", "doctorate"]
Housing = Literal["owner", "tenant", "family", "other"]
RentalKind = Literal["car", "bike", "power_bank", "umbrella", "apartment", "equipment", "other"]
FeedbackPolarity = Literal["positive", "negative"]
FeedbackTopic = Literal["payment", "conduct", "service", "fraud", "other"]
Relation = Literal["friend", "colleague", "family", "neighbour", "other"]
GroupKind = Literal["community", "workplace", "club"]
VerificationMethod = Literal["document", "bank_account", "in_person"]


class EventBase(BaseModel):
    """The envelope every event carries: who reported what about whom, and when."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    schema_version: SchemaVersion
    """Version of the event catalogue the event is written in (1)."""
    event_id: Identifier
    """The source's own idempotency key: the same (source, event_id) is stored once."""
    member_id: MemberId
    """Pseudonymous id of the member the event is about (never a name or document number)."""
    occurred_at: dt.datetime
    """When it happened, with a UTC offset; stored in UTC; never in the future."""
    source: SourceId
    """Who reported it: ``platform``, ``member``, ``partner:<slug>`` or ``court:<slug>``."""

    @field_validator("occurred_at")
    @classmethod
    def _occurred_at_is_aware_and_past(
        cls, value: dt.datetime, info: ValidationInfo
    ) -> dt.datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("occurred_at needs a UTC offset, e.g. 2024-05-01T09:30:00Z")
        try:
            value = value.astimezone(dt.UTC)
        except OverflowError:
            raise ValueError("occurred_at is outside the calendar (years 1 to 9999, UTC)") from None
        now = (info.context or {}).get("now") or dt.datetime.now(dt.UTC)
        if value > now + FUTURE_TOLERANCE:
            raise ValueError(f"occurred_at {value.isoformat()} is in the future")
        return value


def _paid_not_after_report(value: dt.date, info: ValidationInfo) -> dt.date:
    """A payment cannot be reported before it happens (envelope fields validate first)."""
    occurred_at = info.data.get("occurred_at")
    if occurred_at is not None and value > occurred_at.date():
        raise ValueError(f"paid_date {value} is after the event's occurred_at date")
    return value


# --- enrolment -----------------------------------------------------------------------------


class MemberEnrolled(EventBase):
    """The member opted in to OpenScore and accepted a version of the terms."""

    type: Literal["member_enrolled"]
    terms_version: Annotated[str, StringConstraints(pattern=TERMS_VERSION_PATTERN)]
    """Version of the terms the member accepted, e.g. ``2.1``."""
    connections_opt_in: Annotated[bool, null_means_default(False)] = False
    """Whether the member opted in to the connections dimension (off unless they say so)."""


class MemberLeft(EventBase):
    """The member opted out; nothing about them is scored from then on."""

    type: Literal["member_left"]
    leave_reason: Annotated[Literal["opt_out", "account_closed"], null_means_default("opt_out")] = (
        "opt_out"
    )
    """Why the membership ended."""


# --- identity & stability ------------------------------------------------------------------


class IdentityVerified(EventBase):
    """A source verified the member's identity."""

    type: Literal["identity_verified"]
    verification_method: VerificationMethod
    """How the identity was verified."""


class ProfileDeclared(EventBase):
    """The member declared (or updated) profile data; only education and occupation."""

    type: Literal["profile_declared"]
    education: Education | None = None
    """Highest education completed."""
    occupation: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    """Occupation in the member's words."""

    @model_validator(mode="after")
    def _declares_something(self) -> ProfileDeclared:
        if self.education is None and self.occupation is None:
            raise ValueError("a profile declaration needs education or occupation")
        return self


class AddressChanged(EventBase):
    """The member moved. The ledger keeps a region code, never the street address."""

    type: Literal["address_changed"]
    region: Identifier
    """Coarse region code (district), enough for stability and nothing more."""
    housing: Housing
    """Owner, tenant, living with family, or other."""


class EmploymentChanged(EventBase):
    """The member's employment status or employer changed."""

    type: Literal["employment_changed"]
    employment_status: EmploymentStatus
    """Employed, self-employed, unemployed, student or retired."""
    employer_id: Identifier | None = None
    """Pseudonymous employer id, when employed."""


# --- ability to pay ------------------------------------------------------------------------


class IncomeReceived(EventBase):
    """Income arrived in the member's account."""

    type: Literal["income_received"]
    amount: PositiveAmount
    """Amount received, in minor units."""
    currency: Currency
    """ISO 4217 currency code."""
    income_kind: IncomeKind
    """Salary, self-employment, benefits, pension or other."""


class PaymentMade(EventBase):
    """The member paid a merchant."""

    type: Literal["payment_made"]
    amount: PositiveAmount
    """Amount paid, in minor units."""
    currency: Currency
    """ISO 4217 currency code."""
    merchant_category: MerchantCategory
    """What kind of merchant was paid."""
    channel: PaymentChannel
    """Card, mobile, transfer or cash."""


# --- bills ---------------------------------------------------------------------------------


class BillIssued(EventBase):
    """A utility, phone or rent bill was issued to the member."""

    type: Literal["bill_issued"]
    bill_id: Identifier
    """The biller's id of this bill."""
    bill_kind: BillKind
    """Utility, phone or rent."""
    amount: PositiveAmount
    """Amount due, in minor units."""
    currency: Currency
    """ISO 4217 currency code."""
    due_date: dt.date
    """Date by which the bill is due."""


class BillPaid(EventBase):
    """A bill was paid (on time or late: compare ``paid_date`` with ``due_date``)."""

    type: Literal["bill_paid"]
    bill_id: Identifier
    """The biller's id of the bill paid."""
    bill_kind: BillKind
    """Utility, phone or rent."""
    amount: PositiveAmount
    """Amount paid, in minor units."""
    currency: Currency
    """ISO 4217 currency code."""
    due_date: dt.date
    """Date the bill was due."""
    paid_date: dt.date
    """Date it was paid; not after the event's occurred_at."""

    _paid_date = field_validator("paid_date")(_paid_not_after_report)


# --- loans ---------------------------------------------------------------------------------


class LoanOpened(EventBase):
    """A loan was opened; its schedule is ``term`` installments of ``installment_amount``."""

    type: Literal["loan_opened"]
    loan_id: Identifier
    """The lender's id of the loan."""
    principal: PositiveAmount
    """Amount lent, in minor units."""
    currency: Currency
    """ISO 4217 currency code."""
    term: Annotated[int, Field(ge=1, le=480)]
    """Number of installments."""
    frequency: Literal["weekly", "monthly"]
    """How often an installment falls due."""
    installment_amount: PositiveAmount
    """Amount of each installment, in minor units."""
    first_due_date: dt.date
    """Due date of the first installment."""
    interest_rate_bp: Annotated[int, Field(ge=0, le=100_000)] | None = None
    """Annual interest rate in basis points (1250 = 12.50%), when known."""


class InstallmentDue(EventBase):
    """An installment of a loan fell due."""

    type: Literal["installment_due"]
    loan_id: Identifier
    """The lender's id of the loan."""
    installment_no: Annotated[int, Field(ge=1, le=480)]
    """Which installment (1 is the first)."""
    amount: PositiveAmount
    """Amount due, in minor units."""
    currency: Currency
    """ISO 4217 currency code."""
    due_date: dt.date
    """Date the installment is due."""


class InstallmentPaid(EventBase):
    """An installment was paid."""

    type: Literal["installment_paid"]
    loan_id: Identifier
    """The lender's id of the loan."""
    installment_no: Annotated[int, Field(ge=1, le=480)]
    """Which installment (1 is the first)."""
    amount: PositiveAmount
    """Amount paid, in minor units."""
    currency: Currency
    """ISO 4217 currency code."""
    due_date: dt.date
    """Date the installment was due."""
    paid_date: dt.date
    """Date it was paid; not after the event's occurred_at."""

    _paid_date = field_validator("paid_date")(_paid_not_after_report)


class InstallmentMissed(EventBase):
    """An installment was not paid by its due date (reported once it is ``days_past_due`` late)."""

    type: Literal["installment_missed"]
    loan_id: Identifier
    """The lender's id of the loan."""
    installment_no: Annotated[int, Field(ge=1, le=480)]
    """Which installment (1 is the first)."""
    amount: PositiveAmount
    """Amount unpaid, in minor units."""
    currency: Currency
    """ISO 4217 currency code."""
    due_date: dt.date
    """Date the installment was due."""
    days_past_due: Annotated[int, Field(ge=1, le=3650)]
    """Days past due when reported."""


class LoanDefaulted(EventBase):
    """The lender declared the loan in default (90+ days past due or charged off)."""

    type: Literal["loan_defaulted"]
    loan_id: Identifier
    """The lender's id of the loan."""
    outstanding_amount: Amount
    """Amount still owed, in minor units."""
    currency: Currency
    """ISO 4217 currency code."""
    days_past_due: Annotated[int, Field(ge=1, le=3650)]
    """Days past due at default."""


# --- rentals and partner feedback ----------------------------------------------------------


class RentalStarted(EventBase):
    """The member rented something, with or without a deposit."""

    type: Literal["rental_started"]
    rental_id: Identifier
    """The partner's id of the rental."""
    rental_kind: RentalKind
    """What was rented."""
    deposit_waived: bool
    """Whether the deposit was waived on the strength of the member's standing."""
    deposit_amount: Amount
    """Deposit asked (0 when waived), in minor units."""
    currency: Currency
    """ISO 4217 currency code."""


class RentalClosed(EventBase):
    """A rental ended, with or without damage or money left unpaid."""

    type: Literal["rental_closed"]
    rental_id: Identifier
    """The partner's id of the rental."""
    rental_kind: RentalKind
    """What was rented."""
    damage: bool
    """Whether the item came back damaged."""
    unpaid_amount: Amount
    """Money still owed when the rental closed, in minor units."""
    currency: Currency
    """ISO 4217 currency code."""


class PartnerFeedback(EventBase):
    """A partner's positive or negative feedback, always with a reference to its evidence."""

    type: Literal["partner_feedback"]
    polarity: FeedbackPolarity
    """Positive or negative."""
    topic: FeedbackTopic
    """What the feedback is about."""
    evidence_ref: Identifier
    """The partner's reference to the evidence (a case, contract or ticket id)."""


# --- courts --------------------------------------------------------------------------------


class CourtJudgmentEntered(EventBase):
    """A court entered a money judgment against the member."""

    type: Literal["court_judgment_entered"]
    case_id: Identifier
    """The court's case id."""
    amount: PositiveAmount
    """Amount of the judgment, in minor units."""
    currency: Currency
    """ISO 4217 currency code."""


class CourtJudgmentSatisfied(EventBase):
    """A judgment was satisfied (paid or otherwise discharged)."""

    type: Literal["court_judgment_satisfied"]
    case_id: Identifier
    """The court's case id of the judgment satisfied."""


# --- connections and groups ----------------------------------------------------------------


class ConnectionMade(EventBase):
    """The member connected with another member (both confirmed)."""

    type: Literal["connection_made"]
    peer_member_id: MemberId
    """The other member."""
    relation: Relation
    """How they know each other."""

    @field_validator("peer_member_id")
    @classmethod
    def _not_self(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("member_id"):
            raise ValueError("a member cannot connect to themself")
        return value


class ConnectionRemoved(EventBase):
    """A connection ended."""

    type: Literal["connection_removed"]
    peer_member_id: MemberId
    """The other member."""


class GroupJoined(EventBase):
    """The member joined a group (community, workplace or club)."""

    type: Literal["group_joined"]
    group_id: Identifier
    """The group's id."""
    group_kind: GroupKind
    """Community, workplace or club."""


class GroupLeft(EventBase):
    """The member left a group."""

    type: Literal["group_left"]
    group_id: Identifier
    """The group's id."""


# --- corrections ---------------------------------------------------------------------------


class EventRetracted(EventBase):
    """A source withdraws one of its own earlier events; the withdrawn event never counts again."""

    type: Literal["event_retracted"]
    retracted_event_id: Identifier
    """``event_id`` of the source's own earlier event being withdrawn."""
    retraction_reason: ShortText
    """Why it is withdrawn, in words."""


EVENT_MODELS: tuple[type[EventBase], ...] = (
    MemberEnrolled,
    MemberLeft,
    IdentityVerified,
    ProfileDeclared,
    AddressChanged,
    EmploymentChanged,
    IncomeReceived,
    PaymentMade,
    BillIssued,
    BillPaid,
    LoanOpened,
    InstallmentDue,
    InstallmentPaid,
    InstallmentMissed,
    LoanDefaulted,
    RentalStarted,
    RentalClosed,
    PartnerFeedback,
    CourtJudgmentEntered,
    CourtJudgmentSatisfied,
    ConnectionMade,
    ConnectionRemoved,
    GroupJoined,
    GroupLeft,
    EventRetracted,
)


def event_type_name(model: type[EventBase]) -> str:
    """The ``type`` tag of an event model."""
    annotation: Any = model.model_fields["type"].annotation
    (name,) = annotation.__args__
    return str(name)


EVENT_TYPES: dict[str, type[EventBase]] = {event_type_name(m): m for m in EVENT_MODELS}
ENVELOPE_FIELDS: tuple[str, ...] = (
    "schema_version",
    "event_id",
    "type",
    "member_id",
    "occurred_at",
    "source",
)

Event = Annotated[
    MemberEnrolled
    | MemberLeft
    | IdentityVerified
    | ProfileDeclared
    | AddressChanged
    | EmploymentChanged
    | IncomeReceived
    | PaymentMade
    | BillIssued
    | BillPaid
    | LoanOpened
    | InstallmentDue
    | InstallmentPaid
    | InstallmentMissed
    | LoanDefaulted
    | RentalStarted
    | RentalClosed
    | PartnerFeedback
    | CourtJudgmentEntered
    | CourtJudgmentSatisfied
    | ConnectionMade
    | ConnectionRemoved
    | GroupJoined
    | GroupLeft
    | EventRetracted,
    Field(discriminator="type"),
]


def type_fields(model: type[EventBase]) -> tuple[str, ...]:
    """The fields an event type carries beyond the envelope, in declaration order."""
    return tuple(name for name in model.model_fields if name not in ENVELOPE_FIELDS)

"""The city's state: the population, everyone's current circumstances, and the sources.

Everything is an array over members, so each month is a handful of vectorised steps. The
behaviour modules read and update this state and emit event blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from openscore.simulate.blocks import BlockMaker, Bools, Floats, Ints
from openscore.simulate.calibrate import default_intercept
from openscore.simulate.clock import DAY, HOUR, Month, add_months, period, stream
from openscore.simulate.condition import Condition
from openscore.simulate.config import SimulationConfig
from openscore.simulate.outcomes import Outcomes, Tally
from openscore.simulate.traits import (
    EMPLOYED,
    SELF_EMPLOYED,
    TENANT,
    Population,
    draw_population,
    housing_for,
    initial_status,
    occupation_for,
    region_weights,
)

NOBODY = -1
NEVER = np.iinfo(np.int64).max


def member_ids(n: int) -> pa.Array:
    """Pseudonymous member ids ``m0000001`` ... (zero-padded to at least seven digits)."""
    width = max(7, len(str(n)))
    numbers = pc.cast(pa.array(np.arange(1, n + 1)), pa.string())
    return pc.binary_join_element_wise("m", pc.utf8_lpad(numbers, width=width, padding="0"), "")


@dataclass(frozen=True)
class Sources:
    """Every source of the city's events, as codes into one sorted vocabulary."""

    names: tuple[str, ...]
    banks: Ints
    telcos: Ints
    utilities: Ints
    landlords: Ints
    courts: Ints
    rentals: Ints
    lenders: tuple[Ints, ...]
    platform: int
    member: int
    verifier: int
    rogue: int

    @classmethod
    def of(cls, config: SimulationConfig) -> Sources:
        """The sources named in a config."""
        p, r = config.partners, config.rentals

        def partners(slugs: list[str]) -> list[str]:
            return [f"partner:{s}" for s in slugs]

        lenders = [partners(product.lenders) for product in config.credit.products]
        roles = [
            partners(p.banks),
            partners(p.telcos),
            partners(p.utilities),
            partners(p.landlords),
            [f"court:{c}" for c in config.courts.courts],
            partners([x.slug for x in r.partners]),
            *lenders,
            partners([p.identity_verifier]),
            ["platform", "member"],
        ]
        names = tuple(sorted({name for role in roles for name in role}))

        def codes(role: list[str]) -> Ints:
            return np.array([names.index(name) for name in role], np.int64)

        return cls(
            names=names,
            banks=codes(roles[0]),
            telcos=codes(roles[1]),
            utilities=codes(roles[2]),
            landlords=codes(roles[3]),
            courts=codes(roles[4]),
            rentals=codes(roles[5]),
            lenders=tuple(codes(role) for role in lenders),
            platform=names.index("platform"),
            member=names.index("member"),
            verifier=names.index(f"partner:{p.identity_verifier}"),
            rogue=names.index(f"partner:{r.rogue_partner}"),
        )


@dataclass
class LoanSlot:
    """One credit product per member: at most one open loan of each product at a time."""

    active: Bools
    loan_no: Ints
    lender: Ints
    installment: Ints
    term: Ints
    first_due_month: Ints
    due_day: Ints
    arrears: Ints
    """Months in arrears (0: current); the loan defaults at 3."""
    unpaid_from: Ints
    """Number of the oldest unpaid installment (0: none)."""
    debt: Ints
    """Defaulted amount still owed (0: none), in minor units."""
    debt_lender: Ints
    debt_loan: Ints
    default_time: Ints
    judgment_time: Ints
    court: Ints
    case_no: Ints

    @classmethod
    def empty(cls, n: int) -> LoanSlot:
        """No loans and no debts."""

        def zeros() -> Ints:
            return np.zeros(n, np.int64)

        return cls(
            active=np.zeros(n, np.bool_),
            loan_no=zeros(),
            lender=zeros(),
            installment=zeros(),
            term=zeros(),
            first_due_month=zeros(),
            due_day=zeros(),
            arrears=zeros(),
            unpaid_from=zeros(),
            debt=zeros(),
            debt_lender=zeros(),
            debt_loan=zeros(),
            default_time=np.full(n, NEVER),
            judgment_time=np.full(n, NEVER),
            court=zeros(),
            case_no=np.full(n, NOBODY),
        )


@dataclass
class City:
    """Population, circumstances and bookkeeping of the simulated city."""

    config: SimulationConfig
    months: list[Month]
    population: Population
    sources: Sources
    member_ids: pa.Array
    alpha: float
    """Intercept of the monthly miss probability, solved for the target default rate."""
    status: Ints
    employer: Ints
    occupation: Ints
    region: Ints
    region_weights: Floats
    employer_weights: Floats
    housing: Ints
    rent: Floats
    landlord: Ints
    verified: Bools
    condition: Condition
    loans: list[LoanSlot]
    community: Ints
    workplace: Ints
    club: Ints
    left_time: Ints
    last_default_month: Ints
    shock_self_employed: Bools
    first_days: Ints
    """First day (epoch days) of every month from the start, well past the period."""
    regions: int
    employers: int
    clubs: int
    stress: Floats = field(default_factory=lambda: np.zeros(0))
    active: Bools = field(default_factory=lambda: np.zeros(0, np.bool_))

    @property
    def size(self) -> int:
        """Number of members (enrolled or yet to enrol)."""
        return self.population.size

    def working(self) -> Bools:
        """Members in work (employed or self-employed)."""
        working: Bools = (self.status == EMPLOYED) | (self.status == SELF_EMPLOYED)
        return working


def day_time(days: Ints, rng: np.random.Generator, early: int = 7, late: int = 21) -> Ints:
    """A time of day between ``early`` and ``late`` o'clock on each of ``days``."""
    seconds = rng.integers(early * HOUR, late * HOUR, len(days))
    return days * DAY + seconds


def month_time(month: Month, rng: np.random.Generator, n: int) -> Ints:
    """Random moments in the month, after the first day's enrolment hour."""
    day = rng.integers(0, month.days, n)
    return day_time(month.start_day + day, rng)


def employer_weights(count: int) -> Floats:
    """Heavy-tailed employer sizes: a few large employers, many small ones."""
    weights = 1.0 / (np.arange(count, dtype=np.float64) + 5.0)
    shares: Floats = weights / weights.sum()
    return shares


def build_city(config: SimulationConfig) -> City:
    """Draw the population and everyone's starting circumstances; solve the intercept."""
    n = config.city.members
    months = period(config.city.start, config.city.months)
    seed = config.city.seed
    population = draw_population(config, stream(seed, "population"), months)
    rng = stream(seed, "circumstances")
    status = initial_status(config, population, rng)
    regions = max(3, n // config.groups.members_per_region)
    employers = max(2, n // config.groups.members_per_employer)
    weights = region_weights(config, rng, regions)
    region = np.empty(n, np.int64)
    for g in range(len(config.population.groups)):
        members = np.flatnonzero(population.group == g)
        region[members] = rng.choice(regions, size=len(members), p=weights[g])
    emp_weights = employer_weights(employers)
    employer = np.where(status == EMPLOYED, rng.choice(employers, size=n, p=emp_weights), NOBODY)
    housing = housing_for(population, rng, np.arange(n))
    sources = Sources.of(config)
    rent = config.bills.rent_to_income * population.capacity * rng.lognormal(0.0, 0.15, n)
    working = (status == EMPLOYED) | (status == SELF_EMPLOYED)
    return City(
        config=config,
        months=months,
        population=population,
        sources=sources,
        member_ids=member_ids(n),
        alpha=default_intercept(config, population, working),
        status=status,
        employer=employer.astype(np.int64),
        occupation=occupation_for(status, rng),
        region=region,
        region_weights=weights,
        employer_weights=emp_weights,
        housing=housing,
        rent=np.where(housing == TENANT, rent, 0.0),
        landlord=rng.integers(0, len(config.partners.landlords), n),
        verified=np.zeros(n, np.bool_),
        condition=Condition.fresh(n, stream(seed, "condition")),
        loans=[LoanSlot.empty(n) for _ in config.credit.products],
        community=np.full(n, NOBODY),
        workplace=np.full(n, NOBODY),
        club=np.full(n, NOBODY),
        left_time=np.full(n, NEVER),
        last_default_month=np.full(n, -1_000),
        shock_self_employed=np.zeros(n, np.bool_),
        first_days=np.array(
            [
                Month(i, add_months(months[0].first_day, i)).start_day
                for i in range(len(months) + 600)
            ],
            np.int64,
        ),
        regions=regions,
        employers=employers,
        clubs=max(1, n // config.groups.members_per_club),
    )


@dataclass
class Step:
    """One month of the city's life: what behaviours read, update and emit."""

    city: City
    month: Month
    out: BlockMaker
    outcomes: Outcomes
    tally: Tally
    job_change_time: Ints = field(default_factory=lambda: np.zeros(0, np.int64))
    """When a member's employer changed this month (``NEVER`` if it did not)."""
    move_time: Ints = field(default_factory=lambda: np.zeros(0, np.int64))
    """When a member moved this month (``NEVER`` if they did not)."""

    @property
    def index(self) -> int:
        """The month's index in the period."""
        return self.month.index

    def rng(self, name: str) -> np.random.Generator:
        """This month's random stream for behaviour ``name``."""
        return stream(self.city.config.city.seed, name, self.month.index)

    def month_of(self, times: Ints) -> Ints:
        """Month index (in the period) of each epoch-second time."""
        months = self.city.months
        starts = np.array([m.start for m in months] + [months[-1].end], np.int64)
        return np.searchsorted(starts, times, side="right") - 1

"""The people of the city: latent traits, protected group, age, and their starting lives.

Latent traits are standard-normal scores drawn jointly with the configured correlations. The
protected group shifts observed income (the structural disadvantage) and where people live
(segregation), never the traits: risk depends on traits alone.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

import numpy as np

from openscore.ledger.catalogue import Education, EmploymentStatus, Housing
from openscore.simulate.blocks import Bools, Floats, Ints
from openscore.simulate.clock import DAY, HOUR, Month
from openscore.simulate.config import SimulationConfig

STATUSES: tuple[str, ...] = typing.get_args(EmploymentStatus)
EMPLOYED, SELF_EMPLOYED, UNEMPLOYED, STUDENT, RETIRED = range(5)
HOUSING: tuple[str, ...] = typing.get_args(Housing)
OWNER, TENANT, FAMILY, OTHER_HOUSING = range(4)
EDUCATION: tuple[str, ...] = typing.get_args(Education)
_EDUCATION_SHARES = (0.01, 0.06, 0.35, 0.25, 0.22, 0.09, 0.02)

#: What members write as their occupation (fixed words: nothing personal, nothing to escape).
OCCUPATIONS: tuple[str, ...] = (
    "nurse",
    "teacher",
    "software developer",
    "driver",
    "sales assistant",
    "electrician",
    "accountant",
    "cook",
    "cleaner",
    "engineer",
    "warehouse worker",
    "care worker",
    "designer",
    "mechanic",
    "shop owner",
    "freelance writer",
    "builder",
    "student",
    "retired",
    "job seeker",
)
_EMPLOYED_JOBS = np.arange(15)
_SELF_EMPLOYED_JOBS = np.array([5, 9, 12, 13, 14, 15, 16])
_STATUS_JOB = {STUDENT: 17, RETIRED: 18, UNEMPLOYED: 19}


def sigmoid(x: Floats) -> Floats:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Population:
    """Who lives in the city: fixed per member for the whole period."""

    size: int
    group: Ints
    age: Ints
    creditworthiness: Floats
    conscientiousness: Floats
    income_level: Floats
    employment_stability: Floats
    residential_stability: Floats
    volatility_score: Floats
    risk: Floats
    """Trait risk index: the log-odds shift of every payment problem, from traits only."""
    capacity: Floats
    """Monthly earnings when working, in minor units (after the structural disadvantage)."""
    sociability: Floats
    social_noise: Floats
    enrol_month: Ints
    enrol_time: Ints
    life_start: Ints
    opt_in: Bools
    education: Ints
    bank: Ints
    telco: Ints
    utility_day: Ints
    phone_day: Ints
    payday: Ints
    phone_amount: Floats


def _correlated_traits(config: SimulationConfig, rng: np.random.Generator, n: int) -> Floats:
    t = config.traits
    # Order: creditworthiness, conscientiousness, income, employment, residential.
    corr = np.eye(5)
    pairs = {
        (0, 1): t.creditworthiness_conscientiousness,
        (0, 2): t.creditworthiness_income,
        (0, 3): t.creditworthiness_employment,
        (3, 4): t.residential_employment,
        (1, 3): 0.2,
        (2, 3): 0.2,
    }
    for (i, j), value in pairs.items():
        corr[i, j] = corr[j, i] = value
    eigen = np.linalg.eigvalsh(corr)
    if eigen.min() <= 0:
        raise ValueError("the [traits] correlations do not form a valid correlation matrix")
    return rng.standard_normal((n, 5)) @ np.linalg.cholesky(corr).T


def _enrolment(
    config: SimulationConfig, rng: np.random.Generator, months: list[Month]
) -> tuple[Ints, Ints, Ints]:
    n = config.city.members
    initial = max(1, round(config.city.initial_share * n)) if len(months) > 1 else n
    month = np.zeros(n, np.int64)
    month[initial:] = np.sort(rng.integers(0, len(months), n - initial))
    first = months[0].start
    time = np.empty(n, np.int64)
    # The first cohort enrols in the first hour of the period (the platform's launch), so
    # every enrolment precedes everything else in the first file.
    time[:initial] = np.sort(first + rng.integers(0, HOUR, initial))
    starts = np.array([m.start for m in months])[month[initial:]]
    lengths = np.array([m.days for m in months])[month[initial:]]
    offsets = HOUR + (rng.random(n - initial) * (lengths * DAY - 4 * HOUR)).astype(np.int64)
    late = starts + offsets
    order = np.lexsort((late, month[initial:]))
    time[initial:] = late[order]
    life_start = month.copy()
    life_start[initial:] += 1
    return month, time, life_start


def draw_population(
    config: SimulationConfig, rng: np.random.Generator, months: list[Month]
) -> Population:
    """Draw every member's traits and fixed attributes."""
    n = config.city.members
    z = _correlated_traits(config, rng, n)
    cw, consc, income_z, emp, res = (z[:, k].copy() for k in range(5))
    vol = rng.standard_normal(n)
    c = config.credit
    risk = (
        -c.creditworthiness_weight * cw
        - c.conscientiousness_weight * consc
        - c.employment_stability_weight * emp
        + c.income_volatility_weight * vol
    )
    group = rng.choice(len(config.population.groups), size=n, p=config.population.group_shares)
    age = np.clip(
        np.rint(rng.normal(config.population.age_mean, config.population.age_sd, n)), 18, 90
    ).astype(np.int64)
    inc = config.income
    disadvantaged = config.population.groups.index(inc.disadvantaged_group)
    seniority = 0.7 + 0.3 * np.clip((age - 18) / 20.0, 0.0, 1.0)
    capacity = inc.median_monthly * 100.0 * np.exp(inc.dispersion * income_z) * seniority
    capacity *= np.where(group == disadvantaged, 1.0 - inc.structural_disadvantage, 1.0)
    enrol_month, enrol_time, life_start = _enrolment(config, rng, months)
    education_score = 0.6 * income_z + 0.3 * cw + 0.7 * rng.standard_normal(n)
    cuts = np.quantile(education_score, np.cumsum(_EDUCATION_SHARES)[:-1])
    education = np.searchsorted(cuts, education_score).astype(np.int64)
    education = np.where(age < 22, np.minimum(education, 2), education)
    p = config.partners
    has_phone = rng.random(n) < config.bills.phone_share
    return Population(
        size=n,
        group=group.astype(np.int64),
        age=age,
        creditworthiness=cw,
        conscientiousness=consc,
        income_level=income_z,
        employment_stability=emp,
        residential_stability=res,
        volatility_score=vol,
        risk=risk,
        capacity=capacity,
        sociability=rng.lognormal(0.0, 0.8, n),
        social_noise=rng.standard_normal(n),
        enrol_month=enrol_month,
        enrol_time=enrol_time,
        life_start=life_start,
        opt_in=rng.random(n) < config.population.connections_opt_in_share,
        education=education,
        bank=rng.integers(0, len(p.banks), n),
        telco=np.where(has_phone, rng.integers(0, len(p.telcos), n), -1),
        utility_day=rng.integers(1, 21, n),
        phone_day=rng.integers(1, 21, n),
        payday=rng.integers(25, 29, n),
        phone_amount=config.bills.phone_amount * 100.0 * rng.lognormal(0.0, 0.3, n),
    )


def initial_status(
    config: SimulationConfig, population: Population, rng: np.random.Generator
) -> Ints:
    """Employment status at the start, by age and employment stability."""
    n = population.size
    age = population.age
    u = rng.random(n)
    status = np.full(n, EMPLOYED, np.int64)
    unemployed_p = config.income.unemployed_share * np.exp(-0.6 * population.employment_stability)
    self_p = config.income.self_employed_share
    status[u < self_p] = SELF_EMPLOYED
    status[(u >= self_p) & (u < self_p + unemployed_p)] = UNEMPLOYED
    student_p = np.where(age < 22, 0.7, np.where(age < 26, 0.3, 0.0))
    status[rng.random(n) < student_p] = STUDENT
    status[(age >= 66) & (rng.random(n) < 0.9)] = RETIRED
    return status


def occupation_for(status: Ints, rng: np.random.Generator) -> Ints:
    """An occupation (index into ``OCCUPATIONS``) that fits each employment status."""
    job = _EMPLOYED_JOBS[rng.integers(0, len(_EMPLOYED_JOBS), len(status))]
    own = _SELF_EMPLOYED_JOBS[rng.integers(0, len(_SELF_EMPLOYED_JOBS), len(status))]
    job = np.where(status == SELF_EMPLOYED, own, job)
    for code, occupation in _STATUS_JOB.items():
        job = np.where(status == code, occupation, job)
    return job.astype(np.int64)


def housing_for(population: Population, rng: np.random.Generator, index: Ints) -> Ints:
    """Housing of members ``index``: owners older and richer, the young often with family."""
    age = population.age[index]
    owner = sigmoid(-3.0 + 0.07 * (age - 18) + 0.6 * population.income_level[index])
    family = np.where(age < 25, 0.5, 0.03)
    u = rng.random(len(index))
    housing = np.full(len(index), TENANT, np.int64)
    housing[u < owner] = OWNER
    housing[(u >= owner) & (u < owner + family)] = FAMILY
    housing[rng.random(len(index)) < 0.02] = OTHER_HOUSING
    return housing


def region_weights(config: SimulationConfig, rng: np.random.Generator, regions: int) -> Floats:
    """Per protected group, the chance of living in each region (segregation tilts them)."""
    groups = len(config.population.groups)
    affinity = rng.standard_normal((groups, regions))
    weights = np.exp(config.population.segregation * affinity)
    shares: Floats = weights / weights.sum(axis=1, keepdims=True)
    return shares

"""Jobs and homes: shocks (job loss, illness) and recovery, job changes, moves."""

from __future__ import annotations

import numpy as np

from openscore.simulate.condition import ILLNESS, JOB_LOSS, advance, stress
from openscore.simulate.onboarding import declare_address, declare_employment
from openscore.simulate.state import NEVER, NOBODY, Step, month_time
from openscore.simulate.traits import (
    EMPLOYED,
    SELF_EMPLOYED,
    STUDENT,
    TENANT,
    UNEMPLOYED,
    housing_for,
)


def _new_employer(step: Step, count: int, rng: np.random.Generator) -> np.ndarray:
    city = step.city
    return rng.choice(city.employers, size=count, p=city.employer_weights).astype(np.int64)


def shocks(step: Step) -> None:
    """Shocks start and end; job loss and re-employment are reported as employment changes."""
    city, rng = step.city, step.rng("shocks")
    credit = city.config.credit
    was_self_employed = city.status == SELF_EMPLOYED
    changes = advance(
        city.condition,
        city.config.shocks,
        working=city.working(),
        employment_stability=city.population.employment_stability,
        age=city.population.age,
        alive=city.active,
        persistence=credit.noise_persistence,
        rng=rng,
    )
    city.stress = stress(city.condition, city.population.risk, credit.monthly_noise)
    step.outcomes.shock_kind[step.index] = np.where(city.active, city.condition.shock, 0)
    step.tally.add("shocks_started", step.index, int((changes.started > 0).sum()))
    lost = np.flatnonzero(changes.started == JOB_LOSS)
    back = np.flatnonzero((changes.ended == JOB_LOSS) & (city.status == UNEMPLOYED))
    # Remember who worked for themselves, so that recovery restores the same kind of work.
    city.shock_self_employed[lost] = was_self_employed[lost]
    city.status[lost] = UNEMPLOYED
    city.employer[lost] = NOBODY
    at = month_time(step.month, rng, len(lost))
    step.job_change_time[lost] = at
    declare_employment(step, lost, at)
    own = city.shock_self_employed[back]
    city.status[back] = np.where(own, SELF_EMPLOYED, EMPLOYED)
    city.employer[back] = np.where(own, NOBODY, _new_employer(step, len(back), rng))
    at = month_time(step.month, rng, len(back))
    step.job_change_time[back] = at
    declare_employment(step, back, at)
    step.tally.add("illness_months", step.index, int((city.condition.shock == ILLNESS).sum()))


def careers(step: Step) -> None:
    """Voluntary job changes, the unemployed finding work, students starting work."""
    city, rng = step.city, step.rng("careers")
    stability = city.config.stability
    calm = city.active & (city.condition.shock == 0) & (step.job_change_time == NEVER)
    u = rng.random(city.size)
    change_p = stability.job_change_rate * np.exp(-0.7 * city.population.employment_stability)
    change = calm & (city.status == EMPLOYED) & (u < change_p)
    find = calm & (city.status == UNEMPLOYED) & (u < stability.job_finding_rate)
    graduate = calm & (city.status == STUDENT) & (u < 0.01 * (city.population.age >= 21))
    who = np.flatnonzero(change | find | graduate)
    city.status[who] = EMPLOYED
    city.employer[who] = _new_employer(step, len(who), rng)
    at = month_time(step.month, rng, len(who))
    step.job_change_time[who] = at
    declare_employment(step, who, at)


def moves(step: Step) -> None:
    """Members move home: a new region (often the same one) and perhaps new housing."""
    city, rng = step.city, step.rng("moves")
    population = city.population
    youth = np.clip((40 - population.age) / 20.0, -0.5, 1.0)
    move_p = city.config.stability.move_rate * np.exp(
        -0.6 * population.residential_stability + 0.7 * youth
    )
    who = np.flatnonzero(city.active & (rng.random(city.size) < move_p))
    elsewhere = rng.random(len(who)) < 0.6
    weights = city.region_weights[population.group[who]]
    cumulative = np.cumsum(weights, axis=1)
    drawn = (rng.random(len(who))[:, None] > cumulative).sum(axis=1)
    city.region[who] = np.where(elsewhere, np.minimum(drawn, city.regions - 1), city.region[who])
    city.housing[who] = housing_for(population, rng, who)
    rent = city.config.bills.rent_to_income * population.capacity[who]
    city.rent[who] = np.where(
        city.housing[who] == TENANT, rent * rng.lognormal(0.0, 0.15, len(who)), 0.0
    )
    city.landlord[who] = rng.integers(0, len(city.config.partners.landlords), len(who))
    at = month_time(step.month, rng, len(who))
    step.move_time[who] = at
    declare_address(step, who, at)

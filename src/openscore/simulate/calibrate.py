"""Solve the intercept of the monthly miss probability for a target annual default rate.

A pilot of up to 20,000 members runs the same shock, noise and arrears rules as the city for a
burn-in and two years, with the random numbers drawn once (common random numbers), and the
intercept is found by bisection. The city's realised rate lands near the target; ``summary.md``
states it.
"""

from __future__ import annotations

import numpy as np

from openscore.simulate.blocks import Bools, Floats
from openscore.simulate.clock import stream
from openscore.simulate.condition import Condition, advance, stress
from openscore.simulate.config import SimulationConfig
from openscore.simulate.traits import Population, sigmoid

PILOT_SIZE = 20_000
BURN_IN = 6
MEASURED = 24
#: A loan defaults after this many months in arrears (its oldest installment is 90 days late).
DEFAULT_AFTER = 3


def logit(p: float) -> float:
    """Log-odds of a probability."""
    return float(np.log(p / (1.0 - p)))


def cure_probability(config: SimulationConfig, relative_stress: Floats) -> Floats:
    """Chance that a member in arrears pays everything owed this month."""
    c = config.credit
    return sigmoid(logit(c.cure_rate) - c.cure_stress_slope * relative_stress)


def _pilot_stress(
    config: SimulationConfig, population: Population, working: Bools
) -> tuple[Floats, Floats, Floats]:
    size = min(population.size, PILOT_SIZE)
    rng = stream(config.city.seed, "calibration")
    condition = Condition.fresh(size, rng)
    months = BURN_IN + MEASURED
    levels = np.empty((months, size))
    for t in range(months):
        advance(
            condition,
            config.shocks,
            working=working[:size],
            employment_stability=population.employment_stability[:size],
            age=population.age[:size],
            alive=np.ones(size, np.bool_),
            persistence=config.credit.noise_persistence,
            rng=rng,
        )
        levels[t] = stress(condition, population.risk[:size], config.credit.monthly_noise)
    return levels, rng.random((months, size)), rng.random((months, size))


def annual_default_rate(
    config: SimulationConfig, levels: Floats, u_miss: Floats, u_cure: Floats, alpha: float
) -> float:
    """12-month default rate of the pilot's performing borrowers for intercept ``alpha``.

    The share of borrowers not in default at a month's start who default within 12 months,
    averaged over every start month after the burn-in.
    """
    months, size = levels.shape
    arrears = np.zeros(size, np.int64)
    blocked_until = np.full(size, -1)
    exposed = np.zeros((months, size), np.bool_)
    defaulted = np.zeros((months, size), np.bool_)
    for t in range(months):
        exposed[t] = blocked_until < t
        in_arrears = exposed[t] & (arrears > 0)
        cured = in_arrears & (u_cure[t] < cure_probability(config, levels[t]))
        missed = exposed[t] & (arrears == 0) & (u_miss[t] < sigmoid(alpha + levels[t]))
        arrears = np.where(cured, 0, np.where(in_arrears, arrears + 1, arrears))
        arrears[missed] = 1
        defaulted[t] = arrears >= DEFAULT_AFTER
        arrears[defaulted[t]] = 0
        blocked_until[defaulted[t]] = t + config.credit.blocked_months_after_default
    rates = [
        (exposed[t] & defaulted[t : t + 12].any(axis=0)).sum() / max(exposed[t].sum(), 1)
        for t in range(BURN_IN, months - 11)
    ]
    return float(np.mean(rates))


def default_intercept(config: SimulationConfig, population: Population, working: Bools) -> float:
    """The intercept that gives the configured annual default rate in the pilot."""
    levels, u_miss, u_cure = _pilot_stress(config, population, working)
    target = config.credit.target_annual_default_rate
    low, high = -15.0, 5.0
    for _ in range(30):
        middle = (low + high) / 2
        if annual_default_rate(config, levels, u_miss, u_cure, middle) < target:
            low = middle
        else:
            high = middle
    return (low + high) / 2

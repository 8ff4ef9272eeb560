"""Each member's financial condition month by month: shocks, persistent noise, and stress.

Stress is a log-odds shift shared by every payment decision of the month (bills,
installments, rentals, debts): the trait risk index, the load of a shock (job loss or illness,
nobody's fault, with an after-effect that fades during recovery), and persistent personal noise.
A bad month therefore shows everywhere at once, as it does in real files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openscore.simulate.blocks import Bools, Floats, Ints
from openscore.simulate.config import ShocksSection

NO_SHOCK, JOB_LOSS, ILLNESS = 0, 1, 2
SHOCK_KINDS = ("none", "job_loss", "illness")


@dataclass
class Condition:
    """Mutable monthly condition of ``n`` members."""

    shock: Ints
    months_left: Ints
    load: Floats
    noise: Floats

    @classmethod
    def fresh(cls, n: int, rng: np.random.Generator) -> Condition:
        """Members with no shock and noise drawn from its long-run distribution."""
        zeros = np.zeros(n, np.int64)
        return cls(zeros, zeros.copy(), np.zeros(n), rng.standard_normal(n))


@dataclass(frozen=True)
class ShockChanges:
    """Who was hit by a shock this month and who recovered."""

    started: Ints
    """Shock kind that started this month per member (0 for none)."""
    ended: Ints
    """Shock kind that ended this month per member (0 for none)."""


def advance(
    condition: Condition,
    config: ShocksSection,
    *,
    working: Bools,
    employment_stability: Floats,
    age: Ints,
    alive: Bools,
    persistence: float,
    rng: np.random.Generator,
) -> ShockChanges:
    """Move every member's condition on by one month.

    Job loss strikes working members, more often those with low employment stability;
    illness strikes anyone, more often the old. Neither depends on creditworthiness.
    """
    n = len(condition.shock)
    u_job, u_ill, u_len = rng.random(n), rng.random(n), rng.random(n)
    ending = alive & (condition.shock > 0) & (condition.months_left <= 1)
    ended = np.where(ending, condition.shock, NO_SHOCK)
    condition.months_left = np.maximum(condition.months_left - 1, 0)
    condition.shock = np.where(ending, NO_SHOCK, condition.shock)
    free = alive & (condition.shock == NO_SHOCK) & ~ending
    job_p = config.job_loss_rate * np.exp(-0.5 * employment_stability)
    ill_p = config.illness_rate * np.clip(1.0 + (age - 40) / 40.0, 0.5, 2.5)
    job = free & working & (u_job < job_p)
    ill = free & ~job & (u_ill < ill_p)
    started = np.where(job, JOB_LOSS, np.where(ill, ILLNESS, NO_SHOCK))
    mean = np.where(job, config.job_loss_months, config.illness_months)
    length = 1 + np.floor(np.log1p(-u_len) / np.log1p(-1.0 / mean)).astype(np.int64)
    condition.shock = np.where(started > 0, started, condition.shock)
    condition.months_left = np.where(started > 0, length, condition.months_left)
    effect = np.select(
        [condition.shock == JOB_LOSS, condition.shock == ILLNESS],
        [config.job_loss_effect, config.illness_effect],
        0.0,
    )
    # During a shock the load is its full effect; afterwards it fades (recovery takes time).
    condition.load = np.where(
        condition.shock > 0, effect, condition.load * config.after_effect_decay
    )
    fresh = rng.standard_normal(n)
    condition.noise = persistence * condition.noise + np.sqrt(1 - persistence**2) * fresh
    return ShockChanges(started.astype(np.int64), ended.astype(np.int64))


def stress(condition: Condition, risk: Floats, noise_sd: float) -> Floats:
    """Relative stress this month: trait risk + shock load + persistent noise (log-odds)."""
    return risk + condition.load + noise_sd * condition.noise

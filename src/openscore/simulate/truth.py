"""Ground truth per member: traits, protected group, shocks and defaults by month.

This is the only place the protected attribute and the latent traits are written; events
never carry them. ``docs/simulate.md`` documents every column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from openscore.simulate.blocks import Floats, Ints
from openscore.simulate.calibrate import DEFAULT_AFTER, cure_probability
from openscore.simulate.engine import CityRun
from openscore.simulate.state import NEVER, City
from openscore.simulate.traits import SELF_EMPLOYED, sigmoid

#: Fixed writer options, so the same city gives the same bytes.
PARQUET_OPTIONS: dict[str, object] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
}

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(9)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def trait_pd(city: City) -> Floats:
    """12-month default probability of a borrower from traits alone (no shock realised).

    Expected over the monthly noise (Gauss-Hermite) and the long-run chance of being in a
    shock: ``1 - (1 - h)^12`` with monthly hazard ``h = P(miss) * P(no cure)^2``.
    """
    cfg = city.config
    pop = city.population
    shocks = cfg.shocks
    job = shocks.job_loss_rate * np.exp(-0.5 * pop.employment_stability) * shocks.job_loss_months
    ill = shocks.illness_rate * np.clip(1 + (pop.age - 40) / 40.0, 0.5, 2.5) * shocks.illness_months
    load = (job * shocks.job_loss_effect + ill * shocks.illness_effect) / (1 + job + ill)
    noise = cfg.credit.monthly_noise
    miss = np.zeros(pop.size)
    stay = np.zeros(pop.size)
    for node, weight in zip(_NODES, _WEIGHTS, strict=True):
        level = pop.risk + load + noise * node
        miss += weight * sigmoid(city.alpha + level)
        stay += weight * (1 - cure_probability(cfg, level))
    hazard = miss * stay ** (DEFAULT_AFTER - 1)
    return 1 - (1 - hazard) ** 12


def _month_lists(flags: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    months, members = flags.shape
    values = pa.array(np.ascontiguousarray(flags.T).reshape(-1), arrow_type)
    offsets = pa.array(np.arange(0, months * members + 1, months, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, values)


def _first_month(city: City, flags: np.ndarray) -> pa.Array:
    any_flag = flags.any(axis=0)
    first = np.argmax(flags, axis=0)
    days = city.first_days[first].astype(np.int32)
    return pa.array(days, pa.date32(), mask=~any_flag)


def _volatility(city: City) -> Floats:
    income = city.config.income
    base = np.where(
        city.status == SELF_EMPLOYED, income.self_employed_volatility, income.salaried_volatility
    )
    return base * np.exp(0.3 * city.population.volatility_score)


def _times(values: Ints) -> pa.Array:
    return pa.array(values * 1_000_000, pa.timestamp("us", tz="UTC"), mask=values == NEVER)


def members_table(run: CityRun) -> pa.Table:
    """The truth table: one row per member."""
    city, outcomes = run.city, run.outcomes
    pop = city.population
    groups = pa.array(city.config.population.groups, pa.string())
    defaults = outcomes.default_flags
    shocked = outcomes.shock_kind > 0
    return pa.table(
        {
            "member_id": city.member_ids,
            "protected_group": groups.take(pa.array(pop.group)),
            "age": pa.array(pop.age, pa.int16()),
            "enrolled_at": _times(pop.enrol_time),
            "active_from_month": pa.array(
                city.first_days[pop.life_start].astype(np.int32), pa.date32()
            ),
            "left_at": _times(city.left_time),
            "creditworthiness": pop.creditworthiness,
            "conscientiousness": pop.conscientiousness,
            "income_level": pop.income_level,
            "income_volatility": _volatility(city),
            "residential_stability": pop.residential_stability,
            "employment_stability": pop.employment_stability,
            "monthly_earning_capacity": np.rint(pop.capacity).astype(np.int64),
            "risk_index": pop.risk,
            "pd_12m": trait_pd(city),
            "shock_by_month": _month_lists(outcomes.shock_kind, pa.int8()),
            "first_shock_month": _first_month(city, shocked),
            "borrower_by_month": _month_lists(outcomes.exposed, pa.bool_()),
            "default_by_month": _month_lists(defaults, pa.bool_()),
            "first_default_month": _first_month(city, defaults),
            "default_count": defaults.sum(axis=0).astype(np.int64),
            "loans_opened": outcomes.loans_opened,
            "judgments": outcomes.judgments,
            "false_negative_feedback": outcomes.false_negative_feedback,
            "mistaken_events": outcomes.mistaken_events,
        }
    )


def partners_table(run: CityRun) -> pa.Table:
    """Every source of events and its role; the rogue partner is marked."""
    city = run.city
    sources = city.sources
    roles: dict[int, list[str]] = {}
    named = {
        "bank": sources.banks,
        "telco": sources.telcos,
        "utility": sources.utilities,
        "landlord": sources.landlords,
        "court": sources.courts,
        "rental": sources.rentals,
        "identity": np.array([sources.verifier]),
        "lender": np.concatenate(sources.lenders),
        "platform": np.array([sources.platform]),
        "member": np.array([sources.member]),
    }
    for role, codes in named.items():
        for code in np.unique(codes).tolist():
            roles.setdefault(code, []).append(role)
    ordered = sorted(roles)
    return pa.table(
        {
            "source": [sources.names[c] for c in ordered],
            "roles": [sorted(roles[c]) for c in ordered],
            "rogue": [c == sources.rogue for c in ordered],
        }
    )


def write_truth(run: CityRun, directory: Path) -> None:
    """Write ``members.parquet`` and ``partners.parquet`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    pq.write_table(members_table(run), directory / "members.parquet", **PARQUET_OPTIONS)
    pq.write_table(partners_table(run), directory / "partners.parquet", **PARQUET_OPTIONS)

"""What was generated, in figures: the calibration a credit-risk analyst checks first.

``city_figures`` computes the figures (tests assert on them); ``summary_markdown`` lays them
out as ``summary.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openscore.simulate.engine import CityRun
from openscore.simulate.graph import attribute_assortativity, numeric_assortativity
from openscore.simulate.groups import CLUB, COMMUNITY, GROUP_KINDS, WORKPLACE
from openscore.simulate.state import NEVER, NOBODY

#: Defaults cannot happen before a loan's first installment is 90 days late.
WARM_UP_MONTHS = 4


@dataclass(frozen=True)
class Figures:
    """Headline figures of a simulated city."""

    members: int
    left: int
    events: int
    events_by_type: dict[str, int]
    annual_default_rate: float
    """The headline: the 12-month cohort rate, or the annualised rate for short periods."""
    cohort_default_rate: float
    """Share of borrowers not in default at a month's start who default within 12 months,
    averaged over start months from the fifth to the last with 12 months ahead (NaN if none)."""
    annualised_default_rate: float
    """``1 - (1 - h)^12`` for the monthly rate ``h`` of borrowers from the fifth month."""
    default_band: tuple[float, float]
    monthly_default_rate: list[float]
    bill_late_rate: float
    bill_unpaid_rate: float
    installment_late_rate: float
    installment_missed_rate: float
    loans_in_arrears_share: float
    """Open loans 30+ days past due at a month's start, as a share of open loans."""
    mean_degree: float
    assortativity_creditworthiness: float
    assortativity_group: float
    group_sizes: dict[str, list[int]]
    default_rate_by_group: dict[str, float]
    income_by_group: dict[str, float]
    shocked_default_rate: float
    unshocked_default_rate: float
    feedback: dict[str, tuple[int, int]]
    retractions: int
    dropped: int


def _rate(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


def _default_rates(run: CityRun) -> tuple[list[float], float, float]:
    """Monthly rates, the annualised monthly rate after the warm-up, the 12-month cohort rate."""
    defaults = run.outcomes.default_flags.sum(axis=1)
    exposed = run.outcomes.exposed.sum(axis=1)
    monthly = [_rate(d, e) for d, e in zip(defaults.tolist(), exposed.tolist(), strict=True)]
    after = slice(WARM_UP_MONTHS, None)
    hazard = _rate(defaults[after].sum(), exposed[after].sum())
    annualised = 1 - (1 - hazard) ** 12 if exposed[after].sum() else float("nan")
    cohorts = []
    for t in range(WARM_UP_MONTHS, len(monthly) - 11):
        borrowers = run.outcomes.exposed[t]
        defaulted = run.outcomes.default_flags[t : t + 12].any(axis=0)
        cohorts.append(_rate((borrowers & defaulted).sum(), borrowers.sum()))
    cohort = float(np.nanmean(cohorts)) if cohorts else float("nan")
    return monthly, annualised, cohort


def _group_sizes(run: CityRun) -> dict[str, list[int]]:
    city = run.city
    sizes = {}
    for kind, member_of in (
        (COMMUNITY, city.community),
        (WORKPLACE, city.workplace),
        (CLUB, city.club),
    ):
        members = member_of[member_of != NOBODY]
        counts = np.bincount(members)
        sizes[GROUP_KINDS[kind]] = sorted(counts[counts > 0].tolist(), reverse=True)
    return sizes


def city_figures(run: CityRun) -> Figures:
    """Compute the summary figures of a finished city."""
    city, tally, outcomes = run.city, run.tally, run.outcomes
    pop = city.population
    groups = city.config.population.groups
    monthly, annualised, cohort = _default_rates(run)
    borrower = outcomes.exposed.any(axis=0)
    defaulted = outcomes.default_flags.any(axis=0)
    shocked = (outcomes.shock_kind > 0).any(axis=0)
    keys = run.graph.keys
    present = (pop.enrol_month < len(city.months)) & (city.left_time == NEVER)
    degree = np.bincount(np.concatenate([keys // city.size, keys % city.size]), minlength=city.size)
    events_by_type = {t: int(v.sum()) for t, v in sorted(run.events_by_type.items())}
    income_sum = [tally.series(f"income_sum_{g}").sum() for g in range(len(groups))]
    income_n = [tally.series(f"income_members_{g}").sum() for g in range(len(groups))]
    return Figures(
        members=city.size,
        left=int((city.left_time != NEVER).sum()),
        events=sum(events_by_type.values()),
        events_by_type=events_by_type,
        annual_default_rate=annualised if np.isnan(cohort) else cohort,
        cohort_default_rate=cohort,
        annualised_default_rate=annualised,
        default_band=city.config.credit.default_rate_band,
        monthly_default_rate=monthly,
        bill_late_rate=_rate(tally.series("bills_late").sum(), tally.series("bills").sum()),
        bill_unpaid_rate=_rate(tally.series("bills_unpaid").sum(), tally.series("bills").sum()),
        installment_late_rate=_rate(
            tally.series("installments_late").sum(), tally.series("installments_due").sum()
        ),
        installment_missed_rate=_rate(
            tally.series("installments_missed").sum(), tally.series("installments_due").sum()
        ),
        loans_in_arrears_share=_rate(
            tally.series("loans_in_arrears").sum(), tally.series("open_loans").sum()
        ),
        mean_degree=float(degree[present].mean()) if present.any() else 0.0,
        assortativity_creditworthiness=numeric_assortativity(keys, city.size, pop.creditworthiness),
        assortativity_group=attribute_assortativity(keys, city.size, pop.group, len(groups)),
        group_sizes=_group_sizes(run),
        default_rate_by_group={
            g: _rate(
                (defaulted & borrower & (pop.group == k)).sum(), (borrower & (pop.group == k)).sum()
            )
            for k, g in enumerate(groups)
        },
        income_by_group={g: _rate(income_sum[k], income_n[k]) / 100 for k, g in enumerate(groups)},
        shocked_default_rate=_rate(
            (defaulted & borrower & shocked).sum(), (borrower & shocked).sum()
        ),
        unshocked_default_rate=_rate(
            (defaulted & borrower & ~shocked).sum(), (borrower & ~shocked).sum()
        ),
        feedback={
            source: (
                run.feedback.get((source, "positive"), 0),
                run.feedback.get((source, "negative"), 0),
            )
            for source in sorted({s for s, _ in run.feedback})
        },
        retractions=events_by_type.get("event_retracted", 0),
        dropped=run.dropped,
    )


def percent(value: float) -> str:
    """A rate as ``7.20%`` (``n/a`` when it could not be measured)."""
    return _pct(value)


def _pct(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{100 * value:.2f}%"


def _sizes(sizes: list[int]) -> str:
    if not sizes:
        return "0 | – | – | –"
    return f"{len(sizes)} | {np.mean(sizes):.1f} | {int(np.median(sizes))} | {max(sizes)}"


def _headline(figures: Figures) -> str:
    if np.isnan(figures.cohort_default_rate):
        return "annualised monthly rate (the period is too short for 12-month cohorts)"
    return "12-month rate of borrowers not in default"


def summary_markdown(run: CityRun, figures: Figures) -> str:
    """``summary.md``: the city in tables."""
    city = run.city
    cfg = city.config
    low, high = figures.default_band
    rate = figures.annual_default_rate
    verdict = (
        "too short to tell" if np.isnan(rate) else "inside" if low <= rate <= high else "OUTSIDE"
    )
    lines = [
        "# Simulated city",
        "",
        f"{figures.members:,} members, {len(city.months)} months from {city.months[0].label} "
        f"to {city.months[-1].label}, seed {cfg.city.seed}; {figures.events:,} events.",
        "",
        "## Calibration",
        "",
        "| figure | realised | configured |",
        "|---|---|---|",
        f"| annual default rate: {_headline(figures)} | {_pct(figures.annual_default_rate)} | "
        f"target {_pct(cfg.credit.target_annual_default_rate)}, band {_pct(low)}–{_pct(high)}"
        f" ({verdict}) |",
        f"| 12-month default rate of borrowers (cohorts from month {WARM_UP_MONTHS + 1}) | "
        f"{_pct(figures.cohort_default_rate)} | |",
        f"| annualised monthly default rate of borrowers (months {WARM_UP_MONTHS + 1}+) | "
        f"{_pct(figures.annualised_default_rate)} | |",
        f"| bills paid late | {_pct(figures.bill_late_rate)} | {_pct(cfg.bills.late_share)} "
        "at average stress |",
        f"| bills never paid | {_pct(figures.bill_unpaid_rate)} | "
        f"{_pct(cfg.bills.unpaid_share)} at average stress |",
        f"| installments paid 1–29 days late | {_pct(figures.installment_late_rate)} | "
        f"{_pct(cfg.credit.late_installment_share)} at average stress |",
        f"| installments missed (30+ days past due), current loans | "
        f"{_pct(figures.installment_missed_rate)} | |",
        f"| open loans 30+ days past due at a month's start | "
        f"{_pct(figures.loans_in_arrears_share)} | |",
        f"| borrowers with a shock: default rate | {_pct(figures.shocked_default_rate)} | |",
        f"| borrowers without a shock: default rate | {_pct(figures.unshocked_default_rate)} | |",
        "",
        f"Intercept of the monthly miss probability solved for the target: {city.alpha:.3f}.",
        "",
        "## Members and fairness",
        "",
        f"Members who opted out during the period: {figures.left:,}.",
        "",
        "| protected group | members | mean monthly income | borrowers' default rate |",
        "|---|---|---|---|",
    ]
    for k, group in enumerate(cfg.population.groups):
        count = int((city.population.group == k).sum())
        lines.append(
            f"| {group} | {count:,} | {figures.income_by_group[group]:,.2f} {cfg.city.currency}"
            f" | {_pct(figures.default_rate_by_group[group])} |"
        )
    lines += [
        "",
        "## Default rate by month",
        "",
        "| month | borrowers | defaults | rate |",
        "|---|---|---|---|",
    ]
    exposed = run.outcomes.exposed.sum(axis=1)
    defaults = run.outcomes.default_flags.sum(axis=1)
    for month, rate in zip(city.months, figures.monthly_default_rate, strict=True):
        at = month.index
        lines.append(f"| {month.label} | {exposed[at]:,} | {defaults[at]:,} | {_pct(rate)} |")
    lines += [
        "",
        "## Social graph and groups",
        "",
        "| figure | value |",
        "|---|---|",
        f"| ties | {len(run.graph.keys):,} |",
        f"| mean degree (members present at the end) | {figures.mean_degree:.2f} |",
        f"| assortativity on creditworthiness | {figures.assortativity_creditworthiness:.3f} "
        f"(homophily parameter {cfg.social.homophily_creditworthiness}) |",
        f"| assortativity on the protected group | {figures.assortativity_group:.3f} "
        f"(homophily parameter {cfg.social.homophily_group}) |",
        "",
        "| group kind | groups | mean size | median size | largest |",
        "|---|---|---|---|---|",
    ]
    for kind, sizes in figures.group_sizes.items():
        lines.append(f"| {kind} | {_sizes(sizes)} |")
    lines += [
        "",
        "## Partner feedback",
        "",
        "| source | positive | negative | negative share |",
        "|---|---|---|---|",
    ]
    for source, (positive, negative) in figures.feedback.items():
        rogue = " (rogue)" if source == city.sources.names[city.sources.rogue] else ""
        lines.append(
            f"| {source}{rogue} | {positive:,} | {negative:,} | "
            f"{_pct(_rate(negative, positive + negative))} |"
        )
    lines += [
        "",
        "## Events",
        "",
        "| type | events |",
        "|---|---|",
        *(f"| {t} | {c:,} |" for t, c in figures.events_by_type.items()),
        f"| **all** | **{figures.events:,}** |",
        "",
        f"Retractions of mistaken events: {figures.retractions:,}. Events that would have "
        f"happened after the period's end or after a member left (not written): "
        f"{figures.dropped:,}.",
        "",
    ]
    return "\n".join(lines)

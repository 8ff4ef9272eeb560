"""Statistical properties of the city, with tolerances wide enough for a small city."""

from __future__ import annotations

import networkx as nx  # type: ignore[import-untyped]
import numpy as np
import pytest

from openscore.simulate.engine import CityRun, NullSink, simulate
from openscore.simulate.graph import attribute_assortativity, edge_ends, numeric_assortativity
from openscore.simulate.summary import Figures, city_figures
from openscore.simulate.truth import members_table

from .conftest import make_config


@pytest.fixture(scope="module")
def city() -> tuple[CityRun, Figures]:
    run = simulate(make_config(city={"members": 12_000, "months": 20, "seed": 21}), NullSink())
    return run, city_figures(run)


def test_default_rate_is_inside_the_configured_band(city: tuple[CityRun, Figures]) -> None:
    run, figures = city
    low, high = run.city.config.credit.default_rate_band
    assert low <= figures.annual_default_rate <= high
    assert figures.annual_default_rate == figures.cohort_default_rate


def test_late_payments_are_of_the_order_of_consumer_data(city: tuple[CityRun, Figures]) -> None:
    _, figures = city
    assert 0.03 < figures.bill_late_rate < 0.15
    assert 0.002 < figures.bill_unpaid_rate < 0.03
    assert 0.005 < figures.installment_missed_rate < 0.04
    assert 0.01 < figures.loans_in_arrears_share < 0.05


def test_shocked_members_default_more_than_unshocked_with_the_same_traits(
    city: tuple[CityRun, Figures],
) -> None:
    run, _ = city
    truth = members_table(run).to_pydict()
    risk = np.array(truth["risk_index"])
    borrower = np.array([any(flags) for flags in truth["borrower_by_month"]])
    defaulted = np.array(truth["default_count"]) > 0
    shocked = np.array([any(flags) for flags in truth["shock_by_month"]])
    strata = np.digitize(risk, np.quantile(risk[borrower], [0.2, 0.4, 0.6, 0.8]))
    # Mantel-Haenszel pooled difference of default rates, shocked minus unshocked, by stratum.
    weights = differences = 0.0
    for stratum in range(5):
        members = borrower & (strata == stratum)
        hit, calm = members & shocked, members & ~shocked
        weight = hit.sum() * calm.sum() / members.sum()
        differences += weight * (defaulted[hit].mean() - defaulted[calm].mean())
        weights += weight
    assert differences / weights > 0.03
    # ... and shocks are nobody's fault: illness is blind to creditworthiness (job loss follows
    # employment stability, which is correlated with it, but never creditworthiness itself).
    cw = np.array(truth["creditworthiness"])
    ill = np.array([2 in flags for flags in truth["shock_by_month"]])
    assert abs(cw[ill].mean() - cw[~ill].mean()) < 0.08


def test_rogue_partner_reports_more_negative_feedback(city: tuple[CityRun, Figures]) -> None:
    run, figures = city
    rogue = run.city.sources.names[run.city.sources.rogue]
    share = {s: neg / (pos + neg) for s, (pos, neg) in figures.feedback.items()}
    honest = max(v for s, v in share.items() if s != rogue)
    assert share[rogue] > honest + 0.05
    assert run.outcomes.false_negative_feedback.sum() > 100


def test_structural_disadvantage_lowers_income_not_risk(city: tuple[CityRun, Figures]) -> None:
    _, figures = city
    income, defaults = figures.income_by_group, figures.default_rate_by_group
    assert income["B"] / income["A"] == pytest.approx(0.8, abs=0.05)
    assert abs(defaults["B"] - defaults["A"]) < 0.025


def _graph_of(homophily: dict[str, float]) -> CityRun:
    config = make_config(
        city={"members": 4000, "months": 2, "seed": 5}, social={"context_share": 0.2, **homophily}
    )
    return simulate(config, NullSink())


@pytest.mark.parametrize("parameter", ["homophily_creditworthiness", "homophily_group"])
def test_assortativity_rises_with_homophily(parameter: str) -> None:
    low, high = _graph_of({parameter: 0.1}), _graph_of({parameter: 0.7})

    def assortativity(run: CityRun) -> float:
        pop, keys = run.city.population, run.graph.keys
        if parameter == "homophily_creditworthiness":
            return numeric_assortativity(keys, pop.size, pop.creditworthiness)
        return attribute_assortativity(keys, pop.size, pop.group, 2)

    assert assortativity(high) > assortativity(low) + 0.3


def test_assortativity_matches_networkx() -> None:
    run = _graph_of({})
    pop, keys = run.city.population, run.graph.keys
    first, second = edge_ends(keys, pop.size)
    graph = nx.Graph()
    graph.add_nodes_from(range(pop.size))
    graph.add_edges_from(zip(first.tolist(), second.tolist(), strict=True))
    nx.set_node_attributes(graph, dict(enumerate(pop.creditworthiness.tolist())), "cw")
    nx.set_node_attributes(graph, dict(enumerate(pop.group.tolist())), "group")
    assert numeric_assortativity(keys, pop.size, pop.creditworthiness) == pytest.approx(
        nx.numeric_assortativity_coefficient(graph, "cw"), abs=1e-9
    )
    assert attribute_assortativity(keys, pop.size, pop.group, 2) == pytest.approx(
        nx.attribute_assortativity_coefficient(graph, "group"), abs=1e-9
    )

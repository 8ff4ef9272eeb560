"""Connections month by month: new ties, closure, ties that end; each as ledger events.

Both members of a tie confirm it, so each tie is two ``connection_made`` events, one about
each member (a member's own history lists all their connections), and likewise for removals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openscore.simulate.blocks import Codes, Column, Ints, MemberRef
from openscore.simulate.graph import (
    COLLEAGUE,
    FAMILY,
    FRIEND,
    NEIGHBOUR,
    OTHER,
    RELATIONS,
    NewTies,
    close_triangles,
    context_peers,
    edge_ends,
    homophilous_peers,
    new_edges,
)
from openscore.simulate.state import NEVER, Step, month_time

#: Months over which members grow the rest of their network after their first month.
_GROWTH_MONTHS = 24


@dataclass
class SocialGraph:
    """Current ties of the city as sorted edge keys."""

    size: int
    keys: Ints

    @classmethod
    def empty(cls, size: int) -> SocialGraph:
        """A city where nobody knows anybody yet."""
        return cls(size, np.zeros(0, np.int64))


def _ties(step: Step, eligible: np.ndarray, rng: np.random.Generator) -> NewTies:
    city = step.city
    cfg = city.config.social
    pop = city.population
    half = cfg.mean_degree / 2 * pop.sociability / pop.sociability.mean()
    first = pop.life_start == step.index
    rate = np.where(
        first, cfg.initial_share * half, (1 - cfg.initial_share) * half / _GROWTH_MONTHS
    )
    stubs = np.where(eligible, rng.poisson(rate), 0)
    initiator = np.repeat(np.arange(city.size), stubs)
    h = cfg.homophily_creditworthiness
    coordinate = np.sqrt(h) * pop.creditworthiness + np.sqrt(1 - h) * pop.social_noise
    peer = homophilous_peers(initiator, coordinate, pop.group, eligible, cfg, rng)
    draw = rng.random(len(initiator))
    relation = np.where(draw < 0.15, FAMILY, np.where(draw < 0.3, OTHER, FRIEND))
    by_context = rng.random(len(initiator)) < cfg.context_share
    which = rng.integers(0, 3, len(initiator))
    for code, context, kind in (
        (0, city.employer, COLLEAGUE),
        (1, city.region, NEIGHBOUR),
        (2, city.club, FRIEND),
    ):
        chosen = np.flatnonzero(by_context & (which == code))
        found = context_peers(initiator[chosen], context, eligible, rng)
        ok = found >= 0
        peer[chosen[ok]] = found[ok]
        relation[chosen[ok]] = kind
    return NewTies(initiator, peer, relation.astype(np.int64))


def _emit(step: Step, event_type: str, keys: Ints, at: Ints, relation: Ints | None) -> None:
    city = step.city
    first, second = edge_ends(keys, city.size)
    about = np.concatenate([first, second])
    peer = np.concatenate([second, first])
    fields: dict[str, Column] = {"peer_member_id": MemberRef(peer)}
    if relation is not None:
        fields["relation"] = Codes(np.concatenate([relation, relation]), RELATIONS)
    step.out.emit(event_type, np.concatenate([at, at]), about, city.sources.platform, fields)


def connections(step: Step, graph: SocialGraph, leavers: Ints) -> None:
    """Form, close and end ties for the month; a leaver's ties end as they leave."""
    city, rng = step.city, step.rng("social")
    size = city.size
    if len(graph.keys) and len(leavers):
        first, second = edge_ends(graph.keys, size)
        gone = city.left_time[first] != NEVER
        gone |= city.left_time[second] != NEVER
        left_keys = graph.keys[gone]
        a, b = edge_ends(left_keys, size)
        # The tie ends a minute before the member's leaving is recorded.
        at = np.minimum(city.left_time[a], city.left_time[b]) - 60
        _emit(step, "connection_removed", left_keys, at, None)
        graph.keys = graph.keys[~gone]
    ended = rng.random(len(graph.keys)) < city.config.social.monthly_removal
    _emit(
        step,
        "connection_removed",
        graph.keys[ended],
        month_time(step.month, rng, int(ended.sum())),
        None,
    )
    graph.keys = graph.keys[~ended]
    eligible = city.active & (city.left_time == NEVER)
    ties = _ties(step, eligible, rng)
    keys, relation = new_edges(graph.keys, size, ties)
    at = month_time(step.month, rng, len(keys))
    closure = close_triangles(
        graph.keys,
        size,
        NewTies(*edge_ends(keys, size), relation),
        city.config.social.triadic_closure,
        rng,
    )
    closed, closed_relation = new_edges(np.sort(np.concatenate([graph.keys, keys])), size, closure)
    closed_at = month_time(step.month, rng, len(closed))
    _emit(step, "connection_made", keys, at, relation)
    _emit(step, "connection_made", closed, closed_at, closed_relation)
    # New keys are never already present (new_edges drops those), so a sort merges them.
    graph.keys = np.sort(np.concatenate([graph.keys, keys, closed]))
    step.tally.add("ties_made", step.index, len(keys) + len(closed))
    step.tally.add("ties_closed", step.index, len(closed))
    step.tally.add("ties_ended", step.index, int(ended.sum()))

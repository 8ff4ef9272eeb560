"""The social graph: ties formed with homophily, through shared contexts, and by closure.

Edges are an ordered array of integer keys ``i * size + j`` with ``i < j``. Homophily on
creditworthiness works through a social coordinate ``x = sqrt(h) * cw + sqrt(1 - h) * noise``:
a tie joins members close in ``x``, so the correlation of creditworthiness across ties is close
to ``h``. Homophily on the protected group is the share of ties drawn within the group. Shared
contexts (workplace, region, club) and triadic closure (a friend's friend) add the clustering
real networks have.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openscore.simulate.blocks import Bools, Floats, Ints
from openscore.simulate.config import SocialSection

RELATIONS = ("friend", "colleague", "family", "neighbour", "other")
FRIEND, COLLEAGUE, FAMILY, NEIGHBOUR, OTHER = range(5)


@dataclass(frozen=True)
class NewTies:
    """Ties formed this month: endpoints and how they know each other."""

    first: Ints
    second: Ints
    relation: Ints


def edge_ends(keys: Ints, size: int) -> tuple[Ints, Ints]:
    """The two members of each edge key."""
    return keys // size, keys % size


def edge_keys(first: Ints, second: Ints, size: int) -> Ints:
    """Undirected keys of member pairs (smaller index first)."""
    return np.minimum(first, second) * size + np.maximum(first, second)


def _near(rng: np.random.Generator, pool: Ints, position: Ints, width: int) -> Ints:
    """A member of ``pool`` (sorted by social coordinate) within ``width`` places of each."""
    offset = rng.integers(1, width + 1, len(position)) * rng.choice([-1, 1], len(position))
    target = np.clip(position + offset, 0, len(pool) - 1)
    peers: Ints = pool[target]
    return peers


def homophilous_peers(
    initiators: Ints,
    coordinate: Floats,
    group: Ints,
    eligible: Bools,
    config: SocialSection,
    rng: np.random.Generator,
) -> Ints:
    """A peer for each initiator: close in social coordinate, often from the same group."""
    peers = np.empty(len(initiators), np.int64)
    same_group = rng.random(len(initiators)) < config.homophily_group
    candidates = np.flatnonzero(eligible)
    pools = [(candidates, ~same_group)]
    for g in np.unique(group[candidates]).tolist():
        pools.append((candidates[group[candidates] == g], same_group & (group[initiators] == g)))
    for pool_members, chosen in pools:
        if not chosen.any() or len(pool_members) < 2:
            peers[chosen] = initiators[chosen]
            continue
        pool = pool_members[np.argsort(coordinate[pool_members], kind="stable")]
        position = np.searchsorted(coordinate[pool], coordinate[initiators[chosen]])
        width = max(5, int(config.window * len(pool)))
        peers[chosen] = _near(rng, pool, position, width)
    return peers


def context_peers(
    initiators: Ints, context: Ints, eligible: Bools, rng: np.random.Generator
) -> Ints:
    """A random eligible member sharing each initiator's context (-1 where there is none)."""
    members = np.flatnonzero(eligible & (context >= 0))
    peers = np.full(len(initiators), -1, np.int64)
    if not len(members):
        return peers
    order = members[np.argsort(context[members], kind="stable")]
    sorted_context = context[order]
    mine = context[initiators]
    first = np.searchsorted(sorted_context, mine, side="left")
    count = np.searchsorted(sorted_context, mine, side="right") - first
    has = (mine >= 0) & (count > 0)
    pick = first + np.floor(rng.random(len(initiators)) * np.maximum(count, 1)).astype(np.int64)
    peers[has] = order[np.minimum(pick[has], len(order) - 1)]
    return peers


def neighbours(keys: Ints, size: int) -> tuple[Ints, Ints]:
    """Adjacency in compressed form: ``indptr`` per member and the neighbour list."""
    first, second = edge_ends(keys, size)
    source = np.concatenate([first, second])
    target = np.concatenate([second, first])
    order = np.argsort(source, kind="stable")
    indptr = np.zeros(size + 1, np.int64)
    np.cumsum(np.bincount(source, minlength=size), out=indptr[1:])
    return indptr, target[order]


def close_triangles(
    keys: Ints, size: int, ties: NewTies, share: float, rng: np.random.Generator
) -> NewTies:
    """For a share of new ties (i, j), also tie j to one of i's existing friends."""
    chosen = np.flatnonzero(rng.random(len(ties.first)) < share)
    if not len(chosen) or not len(keys):
        return NewTies(*(np.zeros(0, np.int64) for _ in range(3)))
    indptr, adjacent = neighbours(keys, size)
    hub, newcomer = ties.first[chosen], ties.second[chosen]
    degree = indptr[hub + 1] - indptr[hub]
    has = degree > 0
    hub, newcomer, degree = hub[has], newcomer[has], degree[has]
    pick = indptr[hub] + np.floor(rng.random(len(hub)) * degree).astype(np.int64)
    friend = adjacent[pick]
    return NewTies(newcomer, friend, np.full(len(friend), FRIEND, np.int64))


def new_edges(keys: Ints, size: int, ties: NewTies) -> tuple[Ints, Ints]:
    """Keys of ties not already present (no self ties, no repeats) and their relations."""
    ok = ties.first != ties.second
    candidate = edge_keys(ties.first[ok], ties.second[ok], size)
    order = np.argsort(candidate, kind="stable")
    ordered = candidate[order]
    first = np.ones(len(ordered), np.bool_)
    first[1:] = ordered[1:] != ordered[:-1]
    unique, relation = ordered[first], ties.relation[ok][order][first]
    # ``keys`` is sorted: a binary search tells which candidates exist already.
    at = np.minimum(np.searchsorted(keys, unique), max(len(keys) - 1, 0))
    fresh = keys[at] != unique if len(keys) else np.ones(len(unique), np.bool_)
    return unique[fresh], relation[fresh]


def numeric_assortativity(keys: Ints, size: int, values: Floats) -> float:
    """Pearson correlation of ``values`` across ties (as networkx's numeric assortativity)."""
    first, second = edge_ends(keys, size)
    if len(first) < 2:
        return float("nan")
    x = np.concatenate([values[first], values[second]])
    y = np.concatenate([values[second], values[first]])
    return float(np.corrcoef(x, y)[0, 1])


def attribute_assortativity(keys: Ints, size: int, labels: Ints, kinds: int) -> float:
    """Newman's assortativity of a categorical attribute (as networkx computes it)."""
    first, second = edge_ends(keys, size)
    mixing = np.zeros((kinds, kinds))
    np.add.at(mixing, (labels[first], labels[second]), 1)
    np.add.at(mixing, (labels[second], labels[first]), 1)
    total = mixing.sum()
    if total == 0:
        return float("nan")
    mixing /= total
    expected = float((mixing.sum(axis=1) * mixing.sum(axis=0)).sum())
    if expected >= 1.0:
        return float("nan")
    return (float(np.trace(mixing)) - expected) / (1.0 - expected)

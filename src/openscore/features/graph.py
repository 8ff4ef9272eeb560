"""Connections features: neighbour aggregates, personalised PageRank and group aggregates.

All of it is joins and group-bys in the same Ibis layer as the other features, so it runs on
every engine. Only members who opted in to the connections dimension (their latest enrolment
says so) are in the graph, on either end of a tie: a member who did not opt in neither gets
these features nor lends their record to anyone else's.

- A tie between two members is active when the latest ``connection_made`` about the pair,
  reported by either of them, is later than the latest ``connection_removed`` (a tie at the
  same instant is removed). Ties are undirected.
- Defaulter exposure is personalised PageRank with restart probability ``a`` at the member,
  truncated at ``K`` steps: ``sum_k a (1-a)^k (P^k d)(m)`` for ``k = 1..K``, renormalised by
  ``sum_k a (1-a)^k``, where ``P`` is the random walk over ties and ``d`` is 1 for members
  with a default in the last 12 months. By linearity this is ``K`` rounds of "average over
  neighbours" of one vector, not one PageRank per member, so it costs ``K`` joins over the
  ties. A walk that comes back to the member counts the member's own record, as PageRank does.
- Scores come from the optional ``scores`` table (from the scorecard, later). Each member's
  score is their latest one at least ``SCORE_LAG_DAYS`` before ``as_of``; with no table,
  the score features are empty.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from openscore.features import rules
from openscore.features.plan import AS_OF, Gather, Plan, join_parts


def active_ties(valid: ibis.Table, spine: ibis.Table) -> ibis.Table:
    """Directed ties ``src → dst`` between opted-in members, both ways, with ``dst``'s facts."""
    c = valid.filter(
        valid.type.isin(("connection_made", "connection_removed"))
        & valid.peer_member_id.notnull()
        & (valid.peer_member_id != valid.member_id)
    )
    made = c.type == "connection_made"
    pairs = c.group_by(
        a=ibis.least(c.member_id, c.peer_member_id), b=ibis.greatest(c.member_id, c.peer_member_id)
    ).agg(made_at=c.occurred_at.max(where=made), removed_at=c.occurred_at.max(where=~made))
    pairs = pairs.filter(
        pairs.made_at.notnull() & (pairs.removed_at.isnull() | (pairs.made_at > pairs.removed_at))
    )
    directed = pairs.select(src=pairs.a, dst=pairs.b).union(pairs.select(src=pairs.b, dst=pairs.a))
    graph = spine.filter(spine.opted_in)
    facts = graph.select(
        d_member="member_id", dst_verified="verified", dst_defaulted="defaulted_12m"
    )
    ties = directed.join(facts, directed.dst == facts.d_member).drop("d_member")
    return ties.semi_join(graph, ties.src == graph.member_id)


def lagged_scores(scores: ibis.Table) -> ibis.Table:
    """Each member's latest score at least ``SCORE_LAG_DAYS`` before ``as_of``."""
    usable = scores.filter(scores.as_of <= AS_OF - ibis.interval(days=rules.SCORE_LAG_DAYS))
    latest = usable.group_by(l_member="member_id").agg(l_at=usable.as_of.max())
    at_latest = usable.join(
        latest, (usable.member_id == latest.l_member) & (usable.as_of == latest.l_at)
    )
    # Two scores at the same instant should not happen; if they do, the higher one is taken
    # so that every engine picks the same.
    return at_latest.group_by("member_id").agg(score=at_latest.score.cast("float64").max())


def exposure(plan: Plan, ties: ibis.Table, spine: ibis.Table) -> ibis.Table:
    """Truncated personalised PageRank mass on recent defaulters, per member with ties."""
    graph = spine.filter(spine.opted_in)
    vector = graph.select(v_member="member_id", y=graph.defaulted_12m.cast("float64"))
    weights = [(1 - rules.PAGERANK_RESTART) ** step for step in range(1, rules.PAGERANK_STEPS + 1)]
    steps: list[ibis.Table] = []
    for step in range(1, rules.PAGERANK_STEPS + 1):
        joined = ties.join(vector, ties.dst == vector.v_member)
        walked = joined.group_by(v_member="src").agg(y=joined.y.mean())
        vector = plan.add(f"walk_{step}", walked)
        steps.append(vector.select(member_id="v_member", **{f"y{step}": vector.y}))
    table = steps[0]
    for other in steps[1:]:
        table = table.join(other, "member_id")
    total: ir.FloatingValue = sum(
        (w * table[f"y{step}"] for step, w in enumerate(weights, start=1)),
        start=ibis.literal(0.0),
    )
    return table.select("member_id", defaulter_exposure=total / sum(weights))


def neighbours(ties: ibis.Table, lagged: ibis.Table) -> ibis.Table:
    """Counts and shares over each member's ties, and their connections' mean lagged score."""
    scored = ties.left_join(lagged, ties.dst == lagged.member_id)
    return scored.group_by(member_id="src").agg(
        ties=scored.count(),
        verified_ties=scored.src.count(where=scored.dst_verified),
        defaulted_ties=scored.src.count(where=scored.dst_defaulted),
        connections_mean_score=scored.score.mean(),
    )


def group_scores(valid: ibis.Table, spine: ibis.Table, lagged: ibis.Table) -> ibis.Table:
    """Mean over a member's active groups of each group's mean lagged score."""
    g = valid.filter(valid.type.isin(("group_joined", "group_left")) & valid.group_id.notnull())
    joined = g.type == "group_joined"
    spells = g.group_by("member_id", "group_id").agg(
        joined_at=g.occurred_at.max(where=joined), left_at=g.occurred_at.max(where=~joined)
    )
    graph = spine.filter(spine.opted_in).select(g_member="member_id")
    active = spells.filter(
        spells.joined_at.notnull() & (spells.left_at.isnull() | (spells.joined_at > spells.left_at))
    )
    active = active.join(graph, active.member_id == graph.g_member).select("member_id", "group_id")
    scored = active.join(lagged, active.member_id == lagged.member_id)
    per_group = scored.group_by(s_group="group_id").agg(group_score=scored.score.mean())
    mine = active.join(per_group, active.group_id == per_group.s_group)
    return mine.group_by("member_id").agg(groups_mean_score=mine.group_score.mean())


def connection_features(
    plan: Plan,
    valid: ibis.Table,
    spine: ibis.Table,
    scores: ibis.Table,
    gather: Gather = join_parts,
) -> ibis.Table:
    """The five connections features for every member; empty unless the member opted in."""
    ties = plan.add("ties", active_ties(valid, spine))
    lagged = plan.add("lagged_scores", lagged_scores(scores))
    walk = exposure(plan, ties, spine)
    around = neighbours(ties, lagged)
    groups = group_scores(valid, spine, lagged)
    t = gather(spine.select("member_id", "opted_in"), [around, walk, groups])
    share = t.defaulted_ties.cast("float64") / t.ties.cast("float64")
    capped = ibis.least(t.verified_ties.fill_null(0), rules.CONNECTIONS_CAP)
    opted = t.opted_in
    return t.select(
        "member_id",
        verified_connections=ibis.ifelse(opted, capped, ibis.null("int64")),
        connections_default_share_12m=ibis.ifelse(opted, share, ibis.null("float64")),
        defaulter_exposure=ibis.ifelse(opted, t.defaulter_exposure, ibis.null("float64")),
        connections_mean_score=ibis.ifelse(opted, t.connections_mean_score, ibis.null("float64")),
        groups_mean_score=ibis.ifelse(opted, t.groups_mean_score, ibis.null("float64")),
    )

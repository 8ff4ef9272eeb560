"""Hypothesis: random event streams give the reference's features on every engine."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from openscore.features.catalogue import FEATURES
from tests.features.cases import AS_OF, same
from tests.features.conftest import SPARK, Compute
from tests.features.reference import reference_features
from tests.features.streams import batches, streams

# The engine fixture only holds configuration, so reusing it across examples is safe.
FIXTURE_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def check(compute: Compute, drawn: dict[str, Any]) -> None:
    expected = reference_features(
        drawn["events"], AS_OF, disputes=drawn["disputes"], scores=drawn["scores"]
    )
    got = compute(drawn["events"], AS_OF, disputes=drawn["disputes"], scores=drawn["scores"])
    assert sorted(got) == sorted(expected)
    wrong = [
        (member, spec.name, values[spec.name], got[member][spec.name])
        for member, values in expected.items()
        for spec in FEATURES
        if not same(spec, values[spec.name], got[member][spec.name])
    ]
    assert wrong == []


@pytest.mark.parametrize("compute", ["duckdb", "online"], indirect=True)
@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE_OK)
@given(drawn=streams())
def test_random_streams(compute: Compute, drawn: dict[str, Any]) -> None:
    check(compute, drawn)


@pytest.mark.parametrize("compute", [SPARK], indirect=True)
@settings(max_examples=2, deadline=None, suppress_health_check=FIXTURE_OK)
@given(drawn=batches(size=12))
def test_random_streams_spark(compute: Compute, drawn: dict[str, Any]) -> None:
    # Spark's cost is per run, not per member: each example is a dozen streams at once.
    check(compute, drawn)

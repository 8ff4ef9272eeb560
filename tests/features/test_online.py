"""The online path: one member's events in memory, compiled once, the batch's answer."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from openscore.features.catalogue import feature_names
from openscore.features.engines import FeatureRequest, get_engine
from openscore.features.inputs import to_events_arrow
from openscore.features.online import OnlineFeatures, Part, compute_member, online_query
from openscore.ledger.sample import sample_events
from tests.features.cases import AS_OF, enrol


@pytest.fixture(scope="module")
def rows() -> list[dict[str, object]]:
    return list(sample_events(4, months=12, seed=9))


@pytest.mark.parametrize("part", ["whole", "own", "connections"])
def test_the_query_is_compiled_once_per_process(part: Part) -> None:
    assert online_query(part) is online_query(part)
    assert "online_params" in online_query(part)
    assert "2199" not in online_query(part)


def test_values_equal_the_batch_engine_without_connections(rows: list[dict[str, object]]) -> None:
    # Without the network, connection features differ; everything else is the member's own.
    batch = get_engine("duckdb").compute(FeatureRequest(as_of=AS_OF, events=to_events_arrow(rows)))
    expected = {r.pop("member_id"): r for r in batch.to_pylist()}
    online = OnlineFeatures()
    try:
        for member, values in expected.items():
            mine = [r for r in rows if r["member_id"] == member]
            got = online.compute(member, mine, AS_OF)
            assert got is not None
            own = [n for n in feature_names() if not n.startswith(("connections", "verified"))]
            own = [n for n in own if n not in ("defaulter_exposure", "groups_mean_score")]
            assert {n: got[n] for n in own} == {n: values[n] for n in own}
    finally:
        online.close()


def test_a_member_with_no_events_has_no_features() -> None:
    assert compute_member("nobody", [], AS_OF) is None


def test_as_of_decides_membership() -> None:
    rows = [enrol("late", AS_OF + dt.timedelta(seconds=1))]
    assert compute_member("late", rows, AS_OF) is None
    values = compute_member("late", rows, AS_OF + dt.timedelta(seconds=1))
    assert values is not None
    assert values["membership_months"] == 0


def test_a_naive_as_of_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a time zone"):
        compute_member("x", [], dt.datetime(2024, 1, 1))


def test_an_instance_belongs_to_its_thread() -> None:
    online = OnlineFeatures()
    failures: list[BaseException] = []

    def use() -> None:
        try:
            online.compute("x", [], AS_OF)
        except RuntimeError as error:
            failures.append(error)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    online.close()
    assert [str(f) for f in failures] == [
        "an OnlineFeatures instance belongs to the thread that made it"
    ]

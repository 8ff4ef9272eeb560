"""Schemathesis over the OpenAPI schema: no 5xx, and every response as the schema says.

Each generated request is sent as every kind of caller (anonymous, a member, a partner, an
operator, an auditor), so the fuzzing reaches past authentication into every service.
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from tests.api.world import build_world

CALLERS = ("anonymous", "member", "partner_right", "operator", "auditor")
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


def test_no_server_errors_and_responses_match_the_schema(engine: Engine, tmp_path: Path) -> None:
    world = build_world(engine, tmp_path)
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 19

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def exercise(case: schemathesis.Case) -> None:
            for caller in CALLERS:
                case.call_and_validate(headers=world.headers(caller), checks=CHECKS)

        exercise()

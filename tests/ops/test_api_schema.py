"""Schemathesis over /openapi.json against a real `sightline serve`: every documented operation,
called with generated parameters and bodies and a valid key of the project in the path, never
answers 5xx, and every answer matches its documented status, content type and schema."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.checks import not_a_server_error

from tests import services
from tests.conftest import ADMIN_TOKEN

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
INSTANCE_PATHS = ("/api/v1/projects",)  # the instance admin token's own routes
EXAMPLES = 25  # per operation
RETRIES = 3


class Target:
    def __init__(self, base: str, project: dict):
        self.base, self.project = base, project

    def headers_for(self, path: str) -> dict[str, str]:
        key = ADMIN_TOKEN if path in INSTANCE_PATHS else self.project["keys"]["admin"]
        return {"Authorization": f"Bearer {key}"}


def some_traffic(project: dict) -> list[dict]:
    start = datetime.now(UTC) - timedelta(days=3)
    return [{"name": "pageview" if i % 4 else "signup", "visitor_id": f"v{i % 40}",
             "path": f"/p/{i % 7}", "country": ("DE", "US", "FR")[i % 3],
             "properties": {"plan": ("free", "pro")[i % 2]}, "revenue": 9.5 if i % 9 == 0 else None,
             "timestamp": (start + timedelta(minutes=12 * i)).isoformat()} for i in range(300)]


@pytest.fixture(scope="module")
def target(database_url: str, redis_url: str) -> Iterator[Target]:
    with services.served(database_url, redis_url, admin_token=ADMIN_TOKEN) as server:
        with httpx.Client(base_url=server.base, timeout=30) as http:
            created = http.post("/api/v1/projects", json={"name": "Schema", "timezone": "UTC"},
                                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            assert created.status_code == 201, created.text
            project = created.json()
            sent = http.post("/api/v1/events", json=some_traffic(project),
                             headers={"Authorization": f"Bearer {project['keys']['ingest']}"})
            assert sent.status_code == 202, sent.text
        yield Target(server.base, project)


def answer(case, target: Target):  # type: ignore[no-untyped-def]
    """The response, as a client that honours Retry-After sees it: a 503 "retry shortly" (a
    pooled connection not had within 1 s while the other test worker loads the database) is
    asked again; one that persists is validated, and fails."""
    headers = target.headers_for(case.path)
    for _ in range(RETRIES):
        response = case.call(base_url=target.base, headers=headers)
        if response.status_code != 503 or "retry-after" not in response.headers:
            break
        time.sleep(min(float(response.headers["retry-after"]), 2.0))
    return response


def exercise(operation, target: Target) -> None:  # type: ignore[no-untyped-def]
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def calls(case) -> None:  # type: ignore[no-untyped-def]
        if "project_id" in (case.path_parameters or {}):
            case.path_parameters["project_id"] = target.project["id"]
        case.validate_response(answer(case, target), checks=CHECKS)

    calls()


def test_every_operation_answers_as_documented(target: Target) -> None:
    schema = schemathesis.openapi.from_url(target.base + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50
    failed = {}
    for operation in operations:
        try:
            exercise(operation, target)
        except (Exception, BaseExceptionGroup) as error:  # one failure hides no other
            failed[operation.label] = str(error)[:2000]
    assert not failed, "\n\n".join(f"{label}:\n{text}" for label, text in failed.items())

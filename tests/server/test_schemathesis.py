"""Bad input at scale: schemathesis generates requests for every operation of /api/openapi.json,
valid and invalid, as a doctor, a supervisor and an admin, against a real `cunyi serve`. No answer
may be a 5xx, use an undocumented status, or break its response schema.

Bounded for `make test`: a few examples per operation, role and mode, derandomised so a run is
repeatable (raise EXAMPLES locally to search harder: CUNYI_SCHEMATHESIS_EXAMPLES=200).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.app import create_app  # noqa: F401  (imports every API module: fills the document)
from server.openapi import document
from tests.live import LiveServer
from tests.server.fresh import fresh_database, seed_world
from tests.world import PASSWORD

EXAMPLES = int(os.environ.get("CUNYI_SCHEMATHESIS_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ROLES = ("doctor", "supervisor", "admin")
# Logout revokes the very token the run signs in with; tests/server/test_auth.py covers it.
SKIPPED = {("post", "/api/auth/logout")}
OPERATIONS = sorted(
    (method, path)
    for path, item in document()["paths"].items()
    for method in item
    if (method, path) not in SKIPPED
)


class Api:
    def __init__(self, server: LiveServer, tokens: dict[str, str]) -> None:
        self.server = server
        self.tokens = tokens
        self.schema = schemathesis.openapi.from_url(f"{server.url}/api/openapi.json")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp_path = tmp_path_factory.mktemp("schemathesis")
    with fresh_database(tmp_path) as url:
        server = LiveServer(data_dir=tmp_path, database_url=url)
        server.start(timeout=60)
        try:
            phones = seed_world(url)
            tokens = {}
            for role in ROLES:
                response = httpx.post(
                    f"{server.url}/api/auth/login",
                    json={
                        "phone": getattr(phones, role),
                        "password": PASSWORD,
                        "device_id": f"schemathesis-{role}",
                    },
                    timeout=30,
                )
                assert response.status_code == 200, response.text
                tokens[role] = response.json()["token"]
            yield Api(server, tokens)
        finally:
            server.stop()


def run_operation(api: Api, method: str, path: str, role: str, mode: GenerationMode) -> None:
    operation = api.schema[path][method.upper()]
    headers = {"Authorization": f"Bearer {api.tokens[role]}"}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=api.server.url, headers=headers, checks=CHECKS, timeout=30)

    check()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_generated_requests_get_documented_answers_and_never_a_server_error(
    api: Api, method: str, path: str, role: str
) -> None:
    run_operation(api, method, path, role, GenerationMode.POSITIVE)
    try:
        run_operation(api, method, path, role, GenerationMode.NEGATIVE)
    except Unsatisfiable:
        pass  # nothing in this operation can be made invalid (no parameters, no body)

    assert "unhandled error" not in api.server.log_tail()

"""The reference server's routes and limits come from the spec, not from the server's code.

An operation added to a copy of openapi.yaml is routed by a server built from that copy
(`create_app(spec=...)`), with no edit of the server: it answers 501 until a handler is
written for it. The body limit and the ids' pattern follow the spec the same way.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")

import reference_server
from contract import demo
from contract.spec import Operation, load
from reference_server import HANDLERS, App, Bot, Router, create_app
from reference_server.results import CallEnded, UsersChanged
from reference_server.validation import VALIDATORS
from testkit.signed_requests import signed
from testkit.spec import NEW_OPERATION as NEW
from testkit.spec import add_operation, spec_with


def send(
    app: App,
    http_method: str,
    path: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One request to the ASGI app, in process."""

    async def exchange() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://server.test") as client:
            content = None if body is None else json.dumps(body).encode()
            return await client.request(
                http_method,
                path,
                content=content,
                headers=signed(content or b"") if headers is None else headers,
            )

    return asyncio.run(exchange())


def routed(router: Router) -> list[Operation]:
    """The operations `router` routes, in its order."""
    return [route.operation for route in router.routes.values()]


# -- the spec of this repository --------------------------------------------------------------


def test_every_operation_of_the_spec_has_a_handler_and_a_validator() -> None:
    spec = load()
    assert {operation.operation_id for operation in spec} == set(HANDLERS)
    assert {operation.request_schema for operation in spec} <= set(VALIDATORS)
    router = Router(spec)
    assert all(route.implemented for route in router.routes.values())


def test_the_router_routes_exactly_the_operations_of_the_spec() -> None:
    spec = load()
    assert routed(Router(spec)) == list(spec.operations.values())


def test_the_body_limit_is_re_exported_from_the_spec() -> None:
    assert load().max_body_bytes == reference_server.MAX_BODY_BYTES


def test_results_are_named_as_the_spec_names_the_data_fields() -> None:
    routes = Router(load()).routes
    assert routes[b"call.user/invite"].data(UsersChanged(3)) == {"invitedUsersCount": 3}
    assert routes[b"call/pause"].data(UsersChanged(0)) == {"pausedUsersCount": 0}
    ended = routes[b"call/end"].data(CallEnded(9, 4, "answered", "incoming"))
    assert ended == {
        "callDuration": 9,
        "dialogDuration": 4,
        "result": "answered",
        "direction": "incoming",
    }
    assert list(ended or {}) == list(load().operations["call/end"].data_fields)
    assert routes[b"call.audio/stop"].data(None) is None
    # A handler answering what the spec does not document is a bug of the server (500).
    with pytest.raises(TypeError, match="invitedUsersCount"):
        routes[b"call.user/invite"].data(None)
    with pytest.raises(TypeError, match="does not match"):
        routes[b"call/end"].data(UsersChanged(1))


# -- a copy of the spec with a thirteenth operation -------------------------------------------


def test_an_operation_added_to_the_spec_is_routed_without_editing_the_server(
    tmp_path: Path,
) -> None:
    spec = spec_with(tmp_path, add_operation())
    assert len(spec.operations) == len(load().operations) + 1
    app = create_app(":memory:", spec=spec)
    try:
        assert routed(app.router) == list(spec.operations.values())
        assert spec.operations[NEW] in routed(app.router)
        body = {"threadId": demo.THREADS[0]}

        response = send(app, "POST", f"/{demo.TEAM}/{NEW}", body)
        assert response.status_code == 501
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {
            "code": 501,
            "message": f"{NEW} is not implemented by the reference server",
        }

        response = send(app, "GET", f"/{demo.TEAM}/{NEW}")
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert response.json() == {"code": 405, "message": "Method GET is not allowed: use POST"}

        # The checks before it still come first: who asks, and for which team.
        assert send(app, "POST", f"/{demo.TEAM}/{NEW}", body, headers={}).status_code == 401
        assert send(app, "POST", f"/{demo.OTHER_TEAM}/{NEW}", body).status_code == 403
        # The operations the server implements answer as before.
        started = send(app, "POST", f"/{demo.TEAM}/call/start", body)
        assert started.json() == {"code": 200, "message": "OK", "data": {"direction": "outgoing"}}
    finally:
        app.close()


def test_the_allow_header_is_the_http_method_of_the_spec(tmp_path: Path) -> None:
    spec = spec_with(tmp_path, add_operation("put"))
    assert spec.operations[NEW].http_method == "PUT"
    app = create_app(":memory:", spec=spec)
    try:
        response = send(app, "POST", f"/{demo.TEAM}/{NEW}", {"threadId": demo.THREADS[0]})
        assert response.status_code == 405
        assert response.headers["allow"] == "PUT"
        assert send(app, "PUT", f"/{demo.TEAM}/{NEW}", {}).status_code == 501
    finally:
        app.close()


def test_the_body_limit_is_the_specs(tmp_path: Path) -> None:
    def smaller_limit(document: dict[str, Any]) -> None:
        document["info"]["x-max-request-body-bytes"] = 100

    app = create_app(":memory:", spec=spec_with(tmp_path, smaller_limit))
    try:
        body = {"threadId": demo.THREADS[0], "pad": ""}
        size = len(json.dumps(body))
        fits = send(app, "POST", f"/{demo.TEAM}/call/start", {**body, "pad": "x" * (100 - size)})
        assert fits.status_code == 400  # read, then refused for its unknown field
        assert fits.json()["errors"] == [
            {"field": "pad", "message": "is not a field of this request"}
        ]
        over = send(app, "POST", f"/{demo.TEAM}/call/start", {**body, "pad": "x" * (101 - size)})
        assert over.status_code == 413
        assert over.json() == {
            "code": 413,
            "message": "The request body is larger than 100 bytes",
        }
    finally:
        app.close()


def test_the_team_id_pattern_is_the_specs(tmp_path: Path) -> None:
    def upper_case_ids(document: dict[str, Any]) -> None:
        document["components"]["schemas"]["ObjectId"]["pattern"] = "^[0-9A-F]{24}$"

    spec = spec_with(tmp_path, upper_case_ids)
    team = demo.TEAM.upper()
    bot = Bot(demo.BOT_ID, demo.SECRET_KEY, frozenset({team, demo.TEAM}))
    app = create_app(":memory:", [bot], spec=spec)
    try:
        body = {"threadId": demo.THREADS[0]}
        assert send(app, "POST", f"/{team}/call/start", body).status_code == 200
        refused = send(app, "POST", f"/{demo.TEAM}/call/start", body)
        assert refused.status_code == 400
        assert [error["field"] for error in refused.json()["errors"]] == ["teamId"]
    finally:
        app.close()

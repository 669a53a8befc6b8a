"""Driver: the client of openapi-generator's `python` generator, default settings (package
`openapi_client`, on PYTHONPATH). It has no hook that sees the body as sent, so the signature is
added where the body is bytes: around its urllib3 pool's `request`, like an HTTP transport.
Bodies are built as a user with JSON in hand would: `Model.from_dict({...})`."""

from __future__ import annotations

import json
from typing import Any

import openapi_client
from openapi_client import models

from contract.signing import Bot
from toolchain.compatibility.common import Run


class Signing:
    """A urllib3 pool manager that signs every request it sends, over its exact body."""

    def __init__(self, pool: Any, run: Run, secret_key: str) -> None:
        self.pool, self.run, self.bot = pool, run, Bot(run.bot_id, secret_key)

    def request(self, method: str, url: str, body: Any = None, **options: Any) -> Any:
        sent = body.encode() if isinstance(body, str) else (body or b"")
        self.run.last_sent = sent
        headers = dict(options.pop("headers", None) or {})
        headers.update(self.bot.headers(sent))
        return self.pool.request(method, url, body=body, headers=headers, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


def _error(error: BaseException) -> tuple[int | None, int | None]:
    if isinstance(error, openapi_client.ApiException) and error.status:
        try:
            code = json.loads(error.body or "null")["code"]
        except (ValueError, TypeError, KeyError):
            code = None
        return int(error.status), code
    return None, None  # refused before sending (pydantic's ValidationError, ValueError)


def main() -> None:
    run = Run.from_argv()
    thread, idle, other = run.threads
    first, second, third = run.users

    def client(secret_key: str) -> Any:
        api_client = openapi_client.ApiClient(openapi_client.Configuration(host=run.base_url))
        rest = api_client.rest_client
        rest.pool_manager = Signing(rest.pool_manager, run, secret_key)
        return api_client

    signed, wrong = client(run.secret_key), client(run.secret_key + "-wrong")
    call, users = openapi_client.CallApi(signed), openapi_client.CallUserApi(signed)
    recording = openapi_client.CallRecordingApi(signed)

    def on(thread_id: str) -> Any:
        return models.ThreadRequest(thread_id=thread_id)

    def who(**body: Any) -> Any:
        return models.UsersRequest.from_dict({"threadId": thread, **body})

    def text_plain() -> Any:
        body = json.dumps({"threadId": other})
        answer = signed.call_api(
            "POST",
            f"{run.base_url}/{run.team}/call/start",
            header_params={"Content-Type": "text/plain", "Accept": "application/json"},
            body=body,
        )
        answer.read()
        raise openapi_client.ApiException(http_resp=answer, body=answer.data.decode())

    team = run.team
    steps: list[tuple[str, Any]] = [
        ("start", lambda: call.call_start(team, models.CallStartRequest(thread_id=thread))),
        ("invite userIds", lambda: users.call_user_invite(team, who(userIds=[first, second]))),
        (
            "invite userId and userIds",
            lambda: users.call_user_invite(team, who(userId=third, userIds=[first])),
        ),
        ("pause userId", lambda: call.call_pause(team, who(userId=first))),
        ("unpause userIds", lambda: call.call_unpause(team, who(userIds=[first]))),
        ("exclude userId", lambda: users.call_user_exclude(team, who(userId=second))),
        ("recording start", lambda: recording.call_recording_start(team, on(thread))),
        ("recording stop", lambda: recording.call_recording_stop(team, on(thread))),
        ("end", lambda: call.call_end(team, on(thread))),
        (
            "409 invite with no active call",
            lambda: users.call_user_invite(
                team, models.UsersRequest.from_dict({"threadId": idle, "userId": first})
            ),
        ),
        (
            "401 wrong signature",
            lambda: openapi_client.CallApi(wrong).call_start(
                team, models.CallStartRequest(thread_id=other)
            ),
        ),
        ("400 repeated user id", lambda: users.call_user_invite(team, who(userIds=[first, first]))),
        ("400 neither userId nor userIds", lambda: users.call_user_invite(team, who())),
        ("415 text/plain body", text_plain),
    ]
    for name, send in steps:
        run.record_model(name, send, _error)
    run.report()


if __name__ == "__main__":
    main()

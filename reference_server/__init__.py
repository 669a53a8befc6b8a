"""The reference server of the Workonflow Call API: a stateful implementation of openapi.yaml.

Run it with `python -m reference_server` (or `nox -s serve`), or build the ASGI application
in-process with `create_app(database, bots)`. Its routes, body limit and id pattern come
from openapi.yaml (`contract.spec`, or the `spec` given to `create_app`); each operation is a
named handler (`reference_server.handlers`) acting on a SQLite store (`reference_server.store`).
Requests are signed by bots (`reference_server.auth`): `X-Bot-Id`, `X-timestamp` and
`X-Signature`, the lowercase hex SHA-256 of `botId + secretkey + timestamp + body`.

How a request is answered, in this order (the first failing check answers):

1. The path. `POST /{teamId}/{method}` for the twelve methods of the contract (every
   operation of the spec, by its path and HTTP method); any other path answers `404`.
   (`GET /recordings/<id>.wav` and `GET /streams/<id>.wav` serve the files that `fileUrl`
   and `streamUrl` point at.)
2. The HTTP method: another one on an operation's path answers `405` with `Allow: POST`.
3. The signature's headers, before the body is read: a missing `X-Bot-Id`, `X-timestamp`
   or `X-Signature` (or one given twice), a bot the server does not know, a timestamp that
   is not whole Unix seconds or is more than 300 s from the server's clock (in the past or
   the future) answers `401`. An anonymous caller learns nothing about the body's checks.
4. The size of the body: over 64 KiB (the spec's `info.x-max-request-body-bytes`) answers
   `413`. The signature covers the body, so the body is read here, never past the limit.
5. The signature: not the one of this bot over this very body (compared in constant time,
   lowercase hex only) answers `401`.
6. The `teamId` of the path: not 24 lowercase hexadecimal characters answers `400` with
   `errors: [{"field": "teamId", ...}]`. It comes after the signature (an unsigned caller
   learns nothing about the path), and before the team check: a malformed id is a bad
   request, not a question of permission, and no bot is ever installed in it anyway.
7. Authorisation: a signed request for a team the bot is not installed in answers `403`.
8. An operation of the spec that the server has no handler for answers `501`.
9. The body: a `Content-Type` other than `application/json` answers `415`; a body that is
   not a JSON object, or does not match the operation's schema (a missing, unknown or
   invalid field, an id twice in `userIds`) `400`, naming each field.
10. The state of the thread: `409` when it does not allow the operation (see the table of
    `docs/contract.md`, which the server follows).

The 401 messages start with `Not authorized` (Workonflow's message) and name the cause; no
message, log line or `repr` ever shows a secret key.

Decisions the contract leaves to the server:

- `call/end` answers `result` `answered` when any user was ever invited into the call and
  `unanswered` otherwise; `dialogDuration` runs from the first invitation to the end,
  `callDuration` from the start to the end, both in whole seconds (wall clock, floored).
- `call.audio/play` while audio is playing replaces it. The server does not download
  `fileUrl` (it has no network to fetch from), so it never answers `422`.
- `fileUrl` of `call.recording/stop` and `streamUrl` of `call.stream/start` point at this
  server (`/recordings/<id>.wav`, `/streams/<id>.wav`, ids of 32 random hex digits, served
  unsigned like any URL handed out to be fetched); a stream's URL answers `404` once it stopped.
- Every operation is one SQLite transaction committed before the answer is sent (see
  `reference_server.store` for durability), and operations are serialised per database.
"""

from __future__ import annotations

from typing import Any

from .app import DEMO_BOT, App, create_app
from .auth import Bot, Bots, parse_bot
from .handlers import HANDLERS
from .routes import Router
from .store import ANSWERED, UNANSWERED, Conflict, Store

__all__ = [
    "ANSWERED",
    "DEMO_BOT",
    "HANDLERS",
    "MAX_BODY_BYTES",
    "UNANSWERED",
    "App",
    "Bot",
    "Bots",
    "Conflict",
    "Router",
    "Store",
    "create_app",
    "parse_bot",
]


def __getattr__(name: str) -> Any:
    """`MAX_BODY_BYTES`: the body limit of this repository's spec, read when first asked for."""
    if name == "MAX_BODY_BYTES":
        from contract.spec import load

        return load().max_body_bytes
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

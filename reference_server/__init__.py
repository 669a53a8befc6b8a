"""The reference server of the Workonflow Call API: a stateful implementation of openapi.yaml.

Run it with `python -m reference_server` (or `nox -s serve`), or build the ASGI application
in-process with `create_app(database, bots)`. Its routes, body limit and id pattern come
from openapi.yaml (`contract.spec`, or the `spec` given to `create_app`); each operation is a
named handler (`reference_server.handlers`) acting on a SQLite store (`reference_server.store`).

How a request is answered, in this order (the first failing check answers):

0. The HTTP layer (`reference_server.protocol`, limits in `reference_server.limits`): one
   connection more than the limit answers `503`; malformed HTTP `400`; a request target
   too long `414`; a head too large or with too many fields `431`; a head or a body not
   received in time `408`. These close the connection.
1. The path. `POST /{teamId}/{method}` for the twelve methods of the contract (every
   operation of the spec, by its path and HTTP method); any other path answers `404`.
   Another HTTP method on an operation's path answers `405` with `Allow: POST`.
   (`GET /recordings/<id>.wav` and `GET /streams/<id>.wav` serve the files that `fileUrl`
   and `streamUrl` point at.)
2. Who is asking, from the headers alone (`reference_server.auth`): a missing `X-Bot-Id`,
   `X-timestamp` or `X-Signature`, a bot the server does not know, a timestamp that is not the
   decimal digits of whole seconds (no sign, leading zero or fraction) or is more than the
   spec's `x-max-skew-seconds` from the server's clock answers `401`, before the body is read.
3. The body's size: over 64 KiB (the spec's `info.x-max-request-body-bytes`) answers `413`.
   The signature covers the body, so the body is read (never more than the limit) before
   the signature can be checked.
4. The signature: not the SHA-256 of bot id, secret key, timestamp and the body exactly as
   received (compared in constant time) answers `401`.
5. The `teamId` of the path: not 24 lowercase hexadecimal characters answers `400` with
   `errors: [{"field": "teamId", ...}]`. It comes after authentication (an anonymous caller
   learns nothing about the path), and before the team check: a malformed id is a bad
   request, not a question of permission, and it can never be a bot's team anyway.
6. Authorisation: a bot used on a team it is not installed in answers `403`. (An operation
   of the spec that the server has no handler for answers `501` here.)
7. The body: a `Content-Type` other than `application/json` answers `415`, and so does a
   `Content-Encoding` other than `identity`; a body that is not
   a JSON object, or does not match the operation's schema (a missing, unknown or invalid
   field, an id twice in `userIds`) `400`, naming each field.
8. Ids the server does not know: only with `--known-ids` (a staging-like server with a fixed
   set of threads and users), a valid body naming another thread or user answers `404`,
   naming `threadId`, `userId` or `userIds`. By default threads and users exist on demand.
9. The state of the thread: `409` when it does not allow the operation (see the table of
   `docs/contract.md`, which the server follows).
10. The database: when another process holds its write lock longer than the busy timeout
   (2 s, `--busy-timeout`), `503` with `Retry-After`. Only operations reach the database:
   every refusal above is answered without it, even while it is locked (an operation finds
   a lock at once, and waits for it on a thread of its own; see `App._in_store`).

With `--rate-limit N` every request over N per second (a bucket of one second) is answered
`429` with `Retry-After` before any of the checks above.

Decisions the contract leaves to the server:

- `call/end` answers `result` `answered` when any user was ever invited into the call and
  `unanswered` otherwise; `dialogDuration` runs from the first invitation to the end,
  `callDuration` from the start to the end, both in whole seconds (wall clock, floored).
- `call.audio/play` while audio is playing replaces it. The server does not download
  `fileUrl` (it has no network to fetch from), so it never answers `422`.
- `fileUrl` of `call.recording/stop` and `streamUrl` of `call.stream/start` point at this
  server (`/recordings/<id>.wav`, `/streams/<id>.wav`, ids of 32 random hex digits):
  whoever has the URL may fetch it, like any signed URL; a stream's URL answers `404` once
  it stopped.
- Every operation is one SQLite transaction committed before the answer is sent (see
  `reference_server.store` for durability), and operations are serialised per database.
- With webhooks (`create_app(webhooks=...)`, `--webhook`), the call events each change causes
  are written into an outbox in the change's transaction and delivered in the background,
  from a process of its own beside a database file (`reference_server.events`,
  `reference_server.delivery`, `reference_server.relay`); `POST /_sandbox/{teamId}/hangup`
  and `/dtmf` cause what only the platform causes (`reference_server.control`).
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

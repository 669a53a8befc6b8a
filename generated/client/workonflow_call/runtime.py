# Generated from openapi.yaml version 2.4.0. Do not edit.
"""What CallApi and AsyncCallApi do besides their operations: sign each request as the bot,
hold their options, and send a request with retries, logging each attempt.

Not a template: `toolchain.generate` copies this file into the client package as it is; the
template `api_init.py.jinja` only declares the operations. When to retry and how long to wait
is `retrying.RetryPolicy`'s. Each attempt goes through httpx again, so BotSignature signs it
afresh, with a new timestamp. Each attempt is logged on the `workonflow_call` logger at DEBUG
(method, path, status or error, attempt, elapsed seconds); headers, and so the signature, and
the secret key never are.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from .client import Client
from .retrying import RetryPolicy

LOGGER = logging.getLogger("workonflow_call")

BOT_ID_HEADER = "X-Bot-Id"
TIMESTAMP_HEADER = "X-timestamp"
SIGNATURE_HEADER = "X-Signature"

T = TypeVar("T")
#: An endpoint module's `_parse_success`: the success model of an answer, or CallApiError.
Parse = Callable[..., T]


class BotSignature(httpx.Auth):
    """Signs each request as a Workonflow bot, as httpx sends it.

    Sets `X-Bot-Id`, `X-timestamp` (whole Unix seconds, read when the request is sent) and
    `X-Signature`, the lowercase hex SHA-256 of `botId + secretkey + timestamp + body`, `body`
    being the exact bytes of the request. CallApi and AsyncCallApi use it by themselves; give it
    to a plain Client as `Client(base_url, httpx_args={"auth": BotSignature(bot_id, secret_key)})`.

    The secret key is not kept as text: only a SHA-256 state that has absorbed
    `botId + secretkey` is, so no `repr`, log line or exception can show it.

    Args:
        bot_id: the bot's id (from Workonflow's bot console).
        secret_key: the bot's secret key; it is never sent.
        clock: the time in Unix seconds (`time.time` by default).
    """

    requires_request_body = True

    def __init__(
        self, bot_id: str, secret_key: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        if not bot_id:
            raise ValueError("bot_id must be a non-empty string")
        if not secret_key:
            raise ValueError(f"the secret key of bot {bot_id} must be a non-empty string")
        self.bot_id = bot_id
        self._keyed = hashlib.sha256(f"{bot_id}{secret_key}".encode())
        self._clock = clock

    def __repr__(self) -> str:
        return f"BotSignature(bot_id={self.bot_id!r})"

    def signature(self, timestamp: str, body: bytes) -> str:
        """The `X-Signature` of `body` sent at `timestamp`."""
        digest = self._keyed.copy()
        digest.update(timestamp.encode())
        digest.update(body)
        return digest.hexdigest()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        timestamp = str(int(self._clock()))
        request.headers[BOT_ID_HEADER] = self.bot_id
        request.headers[TIMESTAMP_HEADER] = timestamp
        request.headers[SIGNATURE_HEADER] = self.signature(timestamp, request.content)
        yield request


#: httpx's client arguments that the generated Client takes as fields of its own, by httpx's
#: name: the Client passes them to httpx itself, so they cannot also travel in httpx_args.
CLIENT_FIELDS = {
    "headers": "headers",
    "cookies": "cookies",
    "timeout": "timeout",
    "verify": "verify_ssl",
    "follow_redirects": "follow_redirects",
}
#: Seconds a request may take when no timeout is given.
DEFAULT_TIMEOUT = 10.0


def client_arguments(
    owner: str,
    auth: httpx.Auth,
    timeout: float | httpx.Timeout | None,
    httpx_args: dict[str, Any] | None,
) -> dict[str, Any]:
    """The keywords of `Client` for the options of CallApi or AsyncCallApi (`owner`).

    httpx's own client arguments (`headers`, `cookies`, `timeout`, `verify`,
    `follow_redirects`) may be given in httpx_args as to httpx itself; the others (`transport`,
    `event_hooks`, `limits`, ...) go to httpx as they are. `auth` and `base_url` are the
    API's own, and a timeout given both ways is ambiguous: each raises TypeError.
    """
    extra = dict(httpx_args or {})
    for reserved, why in (("auth", "the bot's signature"), ("base_url", "the base_url argument")):
        if reserved in extra:
            raise TypeError(f"{owner}: httpx_args cannot set {reserved}, which is {why}")
    fields = {field: extra.pop(name) for name, field in CLIENT_FIELDS.items() if name in extra}
    if "timeout" in fields and timeout is not None:
        raise TypeError(f"{owner}: the timeout is given twice, as timeout= and in httpx_args")
    chosen = fields.pop("timeout") if "timeout" in fields else timeout
    if chosen is None and "timeout" not in (httpx_args or {}):
        chosen = DEFAULT_TIMEOUT
    fields["timeout"] = chosen if isinstance(chosen, httpx.Timeout) else httpx.Timeout(chosen)
    return {**fields, "httpx_args": {**extra, "auth": auth}}


@dataclass(frozen=True)
class CallOptions:
    """What `with_options` changes for the calls of one bound API: the timeout (None: the
    client's), extra headers, and the retry policy."""

    timeout: httpx.Timeout | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    def request_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """An endpoint's request arguments with these options."""
        if not self.headers and self.timeout is None:
            return kwargs
        arguments = {**kwargs, "headers": {**kwargs.get("headers", {}), **self.headers}}
        if self.timeout is not None:
            arguments["timeout"] = self.timeout
        return arguments


class Attempts:
    """The attempts of one call: logs each, and says after each whether and when to retry."""

    def __init__(self, policy: RetryPolicy, kwargs: Mapping[str, Any]) -> None:
        self.policy = policy
        self.method = str(kwargs.get("method", "")).upper()
        self.path = str(kwargs.get("url", ""))
        self.number = 0
        self._started = 0.0

    def start(self) -> None:
        self.number += 1
        self._started = time.monotonic()

    def _log(self, outcome: object, wait: float | None) -> None:
        if LOGGER.isEnabledFor(logging.DEBUG):
            elapsed = time.monotonic() - self._started
            then = "" if wait is None else f", retrying in {wait:.2f} s"
            LOGGER.debug(
                "%s %s -> %s (attempt %d, %.3f s%s)",
                self.method,
                self.path,
                outcome,
                self.number,
                elapsed,
                then,
            )

    def after_answer(self, response: httpx.Response) -> float | None:
        """Seconds to wait before the next attempt, or None: the answer is the outcome."""
        wait = self.policy.wait_after_answer(
            response.status_code, response.headers.get("Retry-After"), self.number
        )
        self._log(response.status_code, wait)
        return wait

    def after_error(self, error: httpx.TransportError) -> float | None:
        """Seconds to wait before the next attempt, or None: raise the error."""
        wait = self.policy.wait_after_error(error, self.number)
        self._log(type(error).__name__, wait)
        return wait


class BoundApi:
    """The API bound to a base URL, a bot and a team; CallApi and AsyncCallApi are built on it.

    Args:
        base_url: the server, e.g. `https://api.workonflow.com`.
        bot_id: the id of the bot that signs the requests.
        secret_key: the bot's secret key (never sent, never shown).
        team_id: the team whose path every request uses.
        timeout: seconds (or an httpx.Timeout) a request may take; 10 s when not given.
        httpx_args: arguments for the underlying httpx client, as httpx takes them
            (`headers`, `cookies`, `verify`, `follow_redirects`, `transport`, `event_hooks`,
            `limits`, ...), merged with the API's own; not `auth` (the bot's signature) nor
            `base_url`.
        max_retries: how many times a request is sent again after an answer or error that
            says it was not carried out (429, 503, a connection that failed before sending);
            2 by default, 0 turns retries off. See `retrying.RetryPolicy`.
        max_retry_wait: the longest wait before a retry in seconds, whatever the server's
            `Retry-After` asks for (60 by default).
        clock: the time in Unix seconds, for signatures and `Retry-After` dates.
        sleep: how to wait before a retry (`time.sleep`, or `asyncio.sleep` for AsyncCallApi).
    """

    def __init__(
        self,
        base_url: str,
        *,
        bot_id: str,
        secret_key: str,
        team_id: str,
        timeout: float | httpx.Timeout | None = None,
        httpx_args: dict[str, Any] | None = None,
        max_retries: int = 2,
        max_retry_wait: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] | None = None,
    ) -> None:
        signature = BotSignature(bot_id, secret_key, clock=clock)
        self.base_url = base_url
        self.bot_id = bot_id
        self.team_id = team_id
        self.client = Client(
            base_url=base_url,
            **client_arguments(type(self).__name__, signature, timeout, httpx_args),
        )
        policy = RetryPolicy(max_retries=max_retries, max_wait=max_retry_wait, clock=clock)
        self._options = CallOptions(policy=policy)
        self._sleep = self.default_sleep() if sleep is None else sleep
        self._bind()

    @staticmethod
    def default_sleep() -> Callable[[float], Any]:
        return time.sleep

    def _bind(self) -> None:
        """Create the operation groups (`self.call`, ...) for this object."""

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
        retry_lost_answers: bool | None = None,
    ) -> Self:
        """The same API with other options for its calls, sharing this one's connection pool
        (closing either closes it for both): a `timeout` for each request, `max_retries`,
        extra `headers`, and `retry_lost_answers` (also retry when the answer was lost, 502,
        504 or a connection lost after sending: only for a call that may be repeated, which
        no operation of the contract is in general, docs/contract.md "Retries"). What is not
        given stays as it is."""
        policy = self._options.policy
        if max_retries is not None:
            policy = dataclasses.replace(policy, max_retries=max_retries)
        if retry_lost_answers is not None:
            policy = dataclasses.replace(policy, retry_lost_answers=retry_lost_answers)
        options = dataclasses.replace(
            self._options,
            policy=policy,
            headers={**self._options.headers, **(headers or {})},
            timeout=self._options.timeout
            if timeout is None
            else timeout
            if isinstance(timeout, httpx.Timeout)
            else httpx.Timeout(timeout),
        )
        derived = copy.copy(self)
        derived._options = options
        derived._bind()
        return derived

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, bot_id={self.bot_id!r}, "
            f"team_id={self.team_id!r})"
        )


class SyncApi(BoundApi):
    """The blocking side of BoundApi: `send` and the connection pool's life."""

    def send(self, kwargs: dict[str, Any], parse: Parse[T]) -> T:
        """Send an endpoint's request, again while the policy says so; its parsed answer."""
        arguments = self._options.request_arguments(kwargs)
        attempts = Attempts(self._options.policy, arguments)
        http = self.client.get_httpx_client()
        while True:
            attempts.start()
            try:
                response = http.request(**arguments)
            except httpx.TransportError as error:
                wait = attempts.after_error(error)
                if wait is None:
                    raise
            else:
                wait = attempts.after_answer(response)
                if wait is None:
                    return parse(client=self.client, response=response)
            self._sleep(wait)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.get_httpx_client().close()

    def __enter__(self) -> Self:
        self.client.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.client.__exit__(exc_type, exc, traceback)


class AsyncApi(BoundApi):
    """The asyncio side of BoundApi: `send` and the connection pool's life."""

    @staticmethod
    def default_sleep() -> Callable[[float], Any]:
        return asyncio.sleep

    async def send(self, kwargs: dict[str, Any], parse: Parse[T]) -> T:
        """Send an endpoint's request, again while the policy says so; its parsed answer."""
        arguments = self._options.request_arguments(kwargs)
        attempts = Attempts(self._options.policy, arguments)
        http = self.client.get_async_httpx_client()
        while True:
            attempts.start()
            try:
                response = await http.request(**arguments)
            except httpx.TransportError as error:
                wait = attempts.after_error(error)
                if wait is None:
                    raise
            else:
                wait = attempts.after_answer(response)
                if wait is None:
                    return parse(client=self.client, response=response)
            await self._sleep(wait)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.get_async_httpx_client().aclose()

    async def __aenter__(self) -> Self:
        await self.client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.client.__aexit__(exc_type, exc, traceback)

"""Near-miss requests derived from openapi.yaml: values just outside and just inside each rule.

Random data rarely lands exactly on a boundary: an id with one letter in upper case, a list of
`maxItems + 1` users, `null` for an optional field, a file URL ending in `.mp4`, a JSON body
sent as `text/plain`, a body one byte over the limit. This phase walks the request of every
operation (the path's `teamId`, the body's resolved schema, its media type and the body size of
`info.x-max-request-body-bytes`) and derives, for every constraint it finds, requests that
miss it by as little as possible and requests that meet it at its edge. Nothing is listed by
hand: a constraint added to the spec yields new cases without a change here.

Whether a derived value is inside or outside is not assumed from how it was made: it is
judged by validating the whole body against the operation's schema (`valid`), so that an upper
case `H` in `Https://` (the pattern allows it) is expected to be accepted, and an upper case
letter in an id refused. Each case carries the statuses the contract names for it:

- outside the body's schema: 400; outside the media type: 415; over the size limit: 413;
- a `teamId` outside its schema: 400; a valid id of another team: 403;
- inside: accepted, that is a documented 2xx, or 409 (the thread's state) or 422 where
  documented (`call.audio/play` cannot fetch the file);
- two faults at once: the status of the check that comes first, in the order the reference
  server documents: 401 for the signature headers, 413 (the signature covers the body, so it
  is read first), 401 for the signature, 400 `teamId`, 403, 415, 400 body, 409.

Every case uses a thread of its own (`contract.demo.thread(FIRST_THREAD + i)`), so it meets
no call of another phase; with `--fixtures`, the fixtures' threads and users in turn
(`fuzzing.ids`), plus one case per operation and id field naming a well-formed id outside them
(404, or what a known id gets). Failures are violations of the check `spec_boundaries`, one per
operation, field and constraint, with a shell snippet that signs the request again and sends it
with curl (`fuzzing.request_signing.shell`).

Every case is signed by the run's bot over the exact bytes sent, except the forgeries derived
from the security schemes (`forgery_cases`): each signature header left out, a signature over
other bytes than those sent, and the forgeries of each input of the signature derived from its
domain (`fuzzing.forgeries`: the bot's id, the time, the digest), each refused with 401 but
for the few the contract accepts (a time 299 s off). A forgery's violation names it.

    found = boundaries.run(options)        # before schemathesis
    boundaries.merge(found, result)        # into its RunResult

Whether a value is inside a schema, and the valid values to start from, are in
`fuzzing.schema_values`; the near misses of one value in `fuzzing.mutations`; one case and
what the spec says of an operation's request in `fuzzing.boundary_requests`; deriving every
case of every operation in `fuzzing.boundary_cases`. Here: sending the cases and judging the
answers.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, urlsplit

from contract.spec import Spec, SpecError, load
from fuzzing import boundary_requests, events, pace, stopping
from fuzzing.boundary_cases import derive
from fuzzing.boundary_requests import Boundary
from fuzzing.cleanup import Ledger
from fuzzing.request_signing import Bot, shell
from fuzzing.results import ConfigurationError

if TYPE_CHECKING:
    from fuzzing.results import Options, RunResult, Violation

#: The phase's check and name (`RunResult.phase_cases`).
CHECK: Final = boundary_requests.CHECK
PHASE: Final = boundary_requests.PHASE
TIMEOUT_SECONDS: Final = 10.0


#: Sends one case and returns the HTTP status of the answer (an exception: no answer).
Transport = Callable[[Boundary], int]


class HttpTransport:
    """Sends cases to a base URL over one kept-alive connection, each signed (or forged) by
    `bot` when it is sent."""

    def __init__(
        self,
        url: str,
        bot: Bot,
        timeout: float = TIMEOUT_SECONDS,
        ledger: Ledger | None = None,
    ) -> None:
        self.ledger = ledger
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")
        self.bot = bot
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def path(self, case: Boundary) -> str:
        return f"{self.prefix}/{quote(case.team, safe='')}/{case.method}"

    def headers(self, case: Boundary) -> dict[str, str]:
        headers = case.signing.headers(self.bot, case.body)
        if case.content_type is not None:
            headers["Content-Type"] = case.content_type
        if case.chunked:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers["Content-Length"] = str(len(case.body))
        return headers

    def _connect(self) -> http.client.HTTPConnection:
        if self.connection is None:
            kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self.connection = kind(self.host, self.port, timeout=self.timeout)
        return self.connection

    def __call__(self, case: Boundary) -> int:
        """The status of the case's answer, sent in a slot of the run's rate and again (signed
        or forged afresh) while the answer is 429 or 503 with `Retry-After` (`fuzzing.pace`)."""
        status: int | None = None
        try:
            status = pace.active().send(lambda: self._send(case), lambda answer: answer)[0]
        finally:
            # Unanswered (interrupted), a case the contract refuses started nothing on a server
            # that keeps it: only an answer, or a case meant to be accepted, goes on the ledger
            # (whose cleanup could not end a call in a malformed team or thread anyway).
            if self.ledger is not None and (status is not None or case.inside):
                self.ledger.note(case.team, case.method, case.json_body, status)
        return status

    def _send(self, case: Boundary) -> tuple[int, str | None]:
        for attempt in (1, 2):
            connection = self._connect()
            try:
                body: bytes | Iterable[bytes] = _chunks(case.body) if case.chunked else case.body
                connection.request(
                    "POST",
                    self.path(case),
                    body=body,
                    headers=self.headers(case),
                    encode_chunked=case.chunked,
                )
                answer = connection.getresponse()
                answer.read()
                if answer.getheader("connection", "").lower() == "close":
                    self.close()
                return answer.status, answer.getheader("retry-after")
            except (http.client.HTTPException, OSError):
                # The server may close a connection after refusing a body it did not read.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _chunks(body: bytes, size: int = 16384) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def curl(url: str, case: Boundary, bot_id: str | None = None) -> str:
    """A shell snippet that signs `case` again (or forges it the same way) and sends it."""
    target = f"{url.rstrip('/')}/{quote(case.team, safe='')}/{case.method}"
    return shell(
        target,
        case.body,
        content_type=case.content_type,
        signing=case.signing,
        bot_id=bot_id,
        extra_headers=["Transfer-Encoding: chunked"] if case.chunked else [],
    )


@dataclass
class Found:
    """What the boundary phase found: cases sent, violations, tally per operation."""

    cases: int = 0
    elapsed: float = 0.0
    violations: list[Violation] = field(default_factory=list)
    tally: dict[str, list[int]] = field(default_factory=dict)  # operation -> [passed, failed]
    errors: list[str] = field(default_factory=list)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)  # method -> status -> n

    def checks_failed(self) -> set[str]:
        return {violation.check for violation in self.violations}


def judge_statuses(
    cases: Sequence[Boundary],
    send: Transport,
    url: str,
    *,
    started: float | None = None,
    bot_id: str | None = None,
    stop: Callable[[Found], bool] | None = None,
) -> Found:
    """Send every case and compare its status with the contract's. One violation per field
    and constraint: the first case that failed it, and how many more did, on which operations
    (no case after one where `stop(found)` says so)."""
    from fuzzing.results import Violation

    started = time.monotonic() if started is None else started
    found = Found()
    first: dict[tuple[str, str], Violation] = {}
    later: dict[tuple[str, str], list[Boundary]] = {}
    for case in cases:
        if stop is not None and stop(found):
            break
        sent = time.time()
        try:
            status: int | None = send(case)
        except (http.client.HTTPException, OSError):
            status = None
        events.answered(case.method, case.team, case.json_body, status, sent)
        found.cases += 1
        by_status = found.statuses.setdefault(case.method, {})
        if status is not None:
            by_status[status] = by_status.get(status, 0) + 1
        counts = found.tally.setdefault(case.operation, [0, 0])
        if status is not None and status in case.expected:
            counts[0] += 1
            continue
        counts[1] += 1
        key = (case.field, case.constraint)
        if key in first:
            later.setdefault(key, []).append(case)
            continue
        first[key] = Violation(
            check=CHECK,
            operation=case.operation,
            reason=case.reason(status),
            curl=curl(url, case, bot_id),
            phase=PHASE,
            first_seen=time.monotonic() - started,
            status=status,
            body=case.json_body,
        )
        found.violations.append(first[key])
    for key, others in later.items():
        operations = {case.operation for case in others} - {first[key].operation}
        where = f", {len(operations)} other operation(s)" if operations else ""
        first[key].reason += f" (and {len(others)} more case(s) of this rule{where})"
    found.elapsed = time.monotonic() - started
    return found


def run(options: Options, spec: Spec | None = None, ledger: Ledger | None = None) -> Found:
    """The boundary phase against `options.url`, with its team and bot."""
    started = time.monotonic()
    if spec is None:
        from contract.spec import read

        spec = load() if options.spec.resolve() == load().path.resolve() else read(options.spec)
    try:
        cases = derive(
            spec,
            options.team,
            bot_id=options.bot.bot_id,
            fixtures=options.fixtures,
            left_out=options.left_out,
        )
    except SpecError as error:
        raise ConfigurationError(f"cannot derive the boundary cases: {error}") from None
    transport = HttpTransport(options.url, options.bot, ledger=ledger)
    try:
        return judge_statuses(
            cases,
            transport,
            options.url,
            started=started,
            bot_id=options.bot.bot_id,
            stop=lambda found: stopping.caught(options.stop_on, found),
        )
    finally:
        transport.close()


def merge(found: Found, result: RunResult) -> None:
    """Put the phase's findings first into the run's result (the phase ran before it)."""
    for violation in result.violations:
        violation.first_seen += found.elapsed
    result.violations[:0] = found.violations
    result.cases += found.cases
    result.phase_cases[PHASE] = found.cases
    result.elapsed += found.elapsed
    for operation, (passed, failed) in found.tally.items():
        result.tally[(operation, CHECK)] = [passed, failed]
    result.errors[:0] = found.errors
    seen = getattr(result, "statuses", None)  # what the run's coverage counts, where it does
    if isinstance(seen, dict):
        for method, counts in found.statuses.items():
            for status, count in counts.items():
                seen.setdefault(method, {})
                seen[method][status] = seen[method].get(status, 0) + count

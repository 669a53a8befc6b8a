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
with curl (`fuzzing.signing.shell`).

Every case is signed by the run's bot over the exact bytes sent, except the forgeries derived
from the security schemes (`forgery_cases`): each signature header left out, a signature over
other bytes than those sent, and the forgeries of each input of the signature derived from its
domain (`fuzzing.forgeries`: the bot's id, the time, the digest), each refused with 401 but
for the few the contract accepts (a time 299 s off). A forgery's violation names it.

    found = boundaries.run(options)        # before schemathesis
    boundaries.merge(found, result)        # into its RunResult

Whether a value is inside a schema, and the valid values to start from, are in
`fuzzing.schema_values`; the near misses of one value in `fuzzing.mutations`. What stays here
is longer than 300 lines on purpose: one builder turns an operation into all its cases (body,
media type, size, team, signature forgeries), sharing the operation's valid request and its
expected statuses; then sending the cases and judging the answers, which need those cases.
"""

from __future__ import annotations

import copy
import http.client
import itertools
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlsplit

from contract import demo
from contract.fixtures import Fixtures
from contract.rules import UNKNOWN_ID, USER_FIELD
from contract.spec import JSON, Operation, Spec, SpecError, follow, load, resolve
from fuzzing import events, forgeries, pace
from fuzzing.cleanup import Ledger
from fuzzing.ids import IdPlacer
from fuzzing.mutations import (
    MISSING,
    SHOWN_CHARACTERS,
    Mutation,
    Path,
    field_name,
    mutations,
)
from fuzzing.schema_values import instance, neighbours, valid, value_kind
from fuzzing.signing import PROPER, SIGNATURE_HEADER, Bot, Signing, shell

if TYPE_CHECKING:
    from fuzzing.results import Options, RunResult, Violation

#: The name of the check whose violations this phase reports.
CHECK: Final = "spec_boundaries"
#: The name of the phase in `RunResult.phase_cases`.
PHASE: Final = "boundaries"
#: Case `i` uses the thread `contract.demo.thread(FIRST_THREAD + i)`, which no other phase uses.
FIRST_THREAD: Final = 900_000
#: The body field that names the thread the operation acts on.
THREAD_FIELD: Final = "threadId"
#: The path parameter that names the team the bot acts for.
TEAM_PARAMETER: Final = "teamId"
#: Media types that are not JSON, sent with a valid JSON body.
OTHER_MEDIA_TYPES: Final = ("text/plain", "application/x-www-form-urlencoded")
#: Statuses a valid request may get besides a documented 2xx: the state of the thread (409),
#: an audio file the server could not fetch (422), each where the operation documents it.
ACCEPTED_ERRORS: Final = (409, 422)
TIMEOUT_SECONDS: Final = 10.0


# -- the cases of one operation ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Boundary:
    """One near-miss request and the statuses the contract allows for it."""

    method: str  # the operation's `{method}`
    operation: str  # its label, as schemathesis names it: `POST /{teamId}/call/start`
    field: str  # what was changed: `threadId`, `userIds.0`, `teamId`, `Content-Type`, `body`
    constraint: str  # which rule it probes: `pattern ^[0-9a-f]{24}$`
    label: str  # how: `one letter upper case`
    shown: str  # the value, as the reason shows it
    expected: tuple[int, ...]
    inside: bool  # meets every rule: expected to be accepted
    team: str
    body: bytes
    content_type: str | None = JSON
    chunked: bool = False
    json_body: Any = None  # the body as JSON (None when it is not)
    #: How the case is signed: properly by default, or one forgery.
    signing: Signing = PROPER

    def reason(self, got: int | None) -> str:
        answer = "no answer" if got is None else str(got)
        shown = f" {self.shown}" if self.shown else ""
        return (
            f"{self.field}: {self.constraint}, {self.label}{shown}: "
            f"expected {' or '.join(map(str, self.expected))}, got {answer}"
        )


def _show(value: Any) -> str:
    if value is MISSING:
        return ""
    text = json.dumps(value)
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 4] + '..."'


def _has(parent: Any, key: str | int) -> bool:
    if isinstance(parent, dict):
        return key in parent
    return isinstance(key, int) and isinstance(parent, list) and 0 <= key < len(parent)


def _value_at(body: Any, path: Path) -> Any:
    node = body
    for key in path:
        if not _has(node, key):
            return MISSING
        node = node[key]
    return node


def apply(body: Any, mutation: Mutation) -> Any:
    """A copy of `body` with the mutation applied."""
    result = copy.deepcopy(body)
    if not mutation.path:
        return mutation.change(result)
    parent = _value_at(result, mutation.path[:-1])
    last = mutation.path[-1]
    new = mutation.change(parent[last] if _has(parent, last) else MISSING)
    if new is not MISSING:
        parent[last] = new
    elif _has(parent, last):
        del parent[last]
    return result


def _encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _padded(body: Any, size: int) -> bytes:
    """The JSON of `body` followed by spaces up to `size` bytes (still valid JSON)."""
    text = _encode(body)
    if len(text) > size:
        raise SpecError(f"a body of {len(text)} bytes does not fit in {size}")
    return text + b" " * (size - len(text))


def _branches(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return [branch for branch in schema[key] if isinstance(branch, Mapping)]
    return [schema]


def accepted(operation: Operation) -> tuple[int, ...]:
    """What a valid request may get: a documented 2xx, or 409/422 where documented."""
    return tuple(
        status for status in operation.statuses if 200 <= status < 300 or status in ACCEPTED_ERRORS
    )


def _operation_node(spec: Spec, operation: Operation) -> tuple[Mapping[str, Any], Any]:
    item = follow(spec.document, spec.document["paths"][operation.path])
    return item, follow(spec.document, item.get(operation.http_method.lower(), {}))


def path_parameters(spec: Spec, operation: Operation) -> dict[str, Any]:
    """The resolved schema of each path parameter of the operation, by name."""
    item, node = _operation_node(spec, operation)
    found: dict[str, Any] = {}
    for node_or_ref in [*item.get("parameters", ()), *node.get("parameters", ())]:
        parameter = follow(spec.document, node_or_ref)
        if parameter.get("in") == "path":
            found[str(parameter["name"])] = resolve(spec.document, parameter.get("schema", {}))
    return found


def media_types(spec: Spec, operation: Operation) -> list[str]:
    """The media types the operation's request body is documented in."""
    _item, node = _operation_node(spec, operation)
    body = follow(spec.document, node.get("requestBody", {}))
    return list(body.get("content", {})) or [JSON]


class _Builder:
    """The cases of one operation, each on a thread of its own (with `placer`, on the threads
    and users of the fixtures: `fuzzing.ids`)."""

    def __init__(
        self,
        spec: Spec,
        operation: Operation,
        team: str,
        threads: Iterator[int],
        bot_id: str,
        placer: IdPlacer | None = None,
    ):
        self.placer = placer
        self.spec = spec
        self.bot_id = bot_id
        self.operation = operation
        self.team = team
        self.threads = threads
        self.label = f"{operation.http_method} {operation.path}"
        self.ok = accepted(operation)
        self.root = spec.schema(operation.request_schema or "")
        self.cases: list[Boundary] = []
        self.seen: set[tuple[str, bytes, str | None, bool, Signing]] = set()

    def fresh(self, body: Any) -> Any:
        """`body` on a thread no other case uses."""
        if isinstance(body, dict) and THREAD_FIELD in body:
            number = next(self.threads)
            if self.placer is None:
                return {**body, THREAD_FIELD: demo.thread(number)}
            threads = self.placer.fixtures.threads  # in turn, so that two cases differ
            return self.placer.place({**body, THREAD_FIELD: threads[number % len(threads)]})
        return body

    def add(
        self,
        field_name: str,
        constraint: str,
        label: str,
        shown: str,
        body: Any,
        *,
        raw: bytes | None = None,
        status: int | None = None,
        team: str | None = None,
        content_type: str | None = JSON,
        chunked: bool = False,
        signing: Signing = PROPER,
    ) -> None:
        """One case; its expected statuses follow from validating `body` unless `status`."""
        if status is None:
            inside = valid(self.root, body)
            expected = self.ok if inside else (400,)
            if inside and self.placer and self.placer.fixtures.unknown(body):
                expected = (*expected, UNKNOWN_ID)  # an id outside the fixtures (2.4.0)
        else:
            inside, expected = status in self.ok, (status,)
        encoded = _encode(body) if raw is None else raw
        key = (team or self.team, encoded, content_type, chunked, signing)
        if key in self.seen:
            return
        self.seen.add(key)
        self.cases.append(
            Boundary(
                method=self.operation.method,
                operation=self.label,
                field=field_name,
                constraint=constraint,
                label=label,
                shown=shown,
                expected=expected,
                inside=inside,
                team=team or self.team,
                body=encoded,
                content_type=content_type,
                chunked=chunked,
                json_body=body,
                signing=signing,
            )
        )

    def build(self) -> list[Boundary]:
        for number, branch in enumerate(_branches(self.root)):
            where = f"{self.operation.request_schema}, branch {number}"
            minimal = instance(branch, where)
            full = instance(branch, where, full=True)
            self.add("body", "required", "only the required fields", "", self.fresh(minimal))
            self.add("body", "properties", "every field", "", self.fresh(full))
            for mutation in mutations(branch, full):
                base = self.fresh(full if mutation.full else minimal)
                if _value_at(base, mutation.path[:-1]) is MISSING:
                    continue
                body = apply(base, mutation)
                shown = _show(_value_at(body, mutation.path))
                self.add(
                    field_name(mutation.path), mutation.constraint, mutation.label, shown, body
                )
        minimal = instance(_branches(self.root)[0], str(self.operation.request_schema))
        self.body_cases(minimal)
        self.media_cases(minimal)
        self.size_cases(minimal)
        self.team_cases(minimal)
        self.forgery_cases(minimal)
        self.unknown_id_cases(minimal)
        return self.cases

    def unknown_id_cases(self, minimal: Any) -> None:
        """With fixtures: a valid body naming a thread, then a user, outside them: 404 on a
        server with fixed ids, or what a known id would get (the sandbox makes them)."""
        if self.placer is None or not isinstance(minimal, dict):
            return
        known = self.fresh(minimal)
        label = "a well-formed id outside the fixtures"
        outside = {**known, THREAD_FIELD: demo.thread(next(self.threads))}
        self.add(THREAD_FIELD, "an existing thread", label, _show(outside[THREAD_FIELD]), outside)
        if USER_FIELD in known:
            stranger = {**known, USER_FIELD: demo.user(next(self.threads))}
            self.add(USER_FIELD, "an existing user", label, _show(stranger[USER_FIELD]), stranger)

    def body_cases(self, minimal: Any) -> None:
        kind = f"type {value_kind(self.root) or 'object'}"
        for other, label in (([minimal], "a JSON array"), (None, "null"), ("x", "a string")):
            if not valid(self.root, other):
                self.add("body", kind, label, _show(other), other)
        text = _encode(self.fresh(minimal))
        self.add("body", "JSON", "one byte short", _show(text[:-1].decode()), None, raw=text[:-1])
        if text.endswith(b"}"):
            self.add("body", "JSON", "a trailing comma", "", None, raw=text[:-1] + b",}")

    def media_cases(self, minimal: Any) -> None:
        documented = media_types(self.spec, self.operation)
        constraint = f"media type {' or '.join(documented)}"
        for media_type in documented:
            for sent, label in (
                (f"{media_type}; charset=utf-8", "with a charset"),
                (media_type.upper(), "in upper case"),
            ):
                self.add(
                    "Content-Type",
                    constraint,
                    label,
                    json.dumps(sent),
                    self.fresh(minimal),
                    content_type=sent,
                )
        for other in (*OTHER_MEDIA_TYPES, None):
            shown = json.dumps(other) if other else "(none)"
            self.add(
                "Content-Type",
                constraint,
                "another media type",
                shown,
                self.fresh(minimal),
                raw=_encode(self.fresh(minimal)),
                status=415,
                content_type=other,
            )

    def size_cases(self, minimal: Any) -> None:
        limit = self.spec.max_body_bytes
        constraint = f"x-max-request-body-bytes {limit}"
        for size, chunked, label in (
            (limit, False, "exactly the limit"),
            (limit + 1, False, "one byte over"),
            (limit + 1, True, "one byte over, sent chunked"),
        ):
            body = self.fresh(minimal)
            self.add(
                "body",
                constraint,
                f"{label}, valid JSON padded with spaces",
                f"({size} bytes)",
                body,
                raw=_padded(body, size),
                status=None if size <= limit else 413,
                chunked=chunked,
            )
        # Two faults at once: the check that comes first answers (413 before 415 and 400: the
        # body is read, within its limit, before the signature over it can be checked).
        self.add(
            "Content-Type",
            f"{constraint} (413 before 415)",
            "text/plain and one byte over",
            '"text/plain"',
            None,
            raw=_padded(self.fresh(minimal), limit + 1),
            status=413,
            content_type=OTHER_MEDIA_TYPES[0],
        )
        invalid = {**self.fresh(minimal), "x-unknown-field": 1}
        self.add(
            "body",
            f"{constraint} (413 before 400)",
            "an unknown field and one byte over",
            f"({limit + 1} bytes)",
            None,
            raw=_padded(invalid, limit + 1),
            status=413,
        )

    def team_cases(self, minimal: Any) -> None:
        schema = path_parameters(self.spec, self.operation).get(TEAM_PARAMETER)
        if schema is None:
            return
        values = [
            (m.change(self.team), m.constraint, m.label) for m in mutations(schema, self.team)
        ]
        other = next(
            c for c in neighbours(schema, self.team) if c != self.team and valid(schema, c)
        )
        values.append((other, "the bot's teams", "a valid id of a team the bot is not in"))
        for value, constraint, label in values:
            if not isinstance(value, str) or not value:
                continue  # a path segment is a non-empty string
            if not valid(schema, value):
                status = 400
            elif value != self.team:
                status = 403
            else:
                continue  # the team itself: every other case sends it
            body = self.fresh(minimal)
            self.add(
                TEAM_PARAMETER,
                constraint,
                label,
                _show(value),
                body,
                raw=_encode(body),
                status=status,
                team=value,
            )
            # ... and before the media type is looked at (400 teamId, 403 before 415).
            body = self.fresh(minimal)
            self.add(
                TEAM_PARAMETER,
                f"{constraint} ({status} before 415)",
                f"{label}, sent as text/plain",
                _show(value),
                body,
                raw=_encode(body),
                status=status,
                team=value,
                content_type=OTHER_MEDIA_TYPES[0],
            )

    def forgery_cases(self, minimal: Any) -> None:
        """Requests the bot did not sign as the contract asks: each refused with 401.

        Derived from the operation's security requirement: each of its headers left out;
        then, for the headers of a bot's signature, the forgeries of each input derived from
        its domain (`fuzzing.forgeries`), and signatures over other bytes than those sent.
        """
        headers = security_headers(self.spec, self.operation)
        if not headers:
            return
        required = "security: every header of the requirement"
        for name in headers:
            self.add(
                name,
                required,
                "left out",
                "",
                self.fresh(minimal),
                status=401,
                signing=Signing(omit=name),
            )
        body = self.fresh(minimal)
        self.add(
            headers[0],
            f"{required} (401 before 400 teamId)",
            "left out, teamId in upper case",
            "",
            body,
            raw=_encode(body),
            status=401,
            team=self.team.upper(),
            signing=Signing(omit=headers[0]),
        )
        for forgery in forgeries.derive(headers, self.bot_id, self.spec.max_skew_seconds):
            self.add(
                forgery.header,
                forgery.constraint,
                forgery.label,
                "",
                self.fresh(minimal),
                status=None if forgery.accepted else 401,
                signing=forgery.signing,
            )
        if SIGNATURE_HEADER in headers:
            self.signed_body_cases(minimal)

    def signed_body_cases(self, minimal: Any) -> None:
        constraint = "security: a signature over the exact bytes sent"
        other = _encode(self.fresh(minimal))  # another request's body, on a thread of its own
        others: tuple[tuple[str, Callable[[Any], bytes], Callable[[Any], bytes]], ...] = (
            ("signed over another request's body", lambda _b: other, _encode),
            # the same JSON in other bytes: the signature covers its compact re-serialization
            ("signed over the body re-serialized (compact JSON)", _encode, _indented),
        )
        for label, signed_over, sent_as in others:
            body = self.fresh(minimal)
            self.add(
                SIGNATURE_HEADER,
                constraint,
                label,
                "",
                body,
                raw=sent_as(body),
                status=401,
                signing=Signing(signed_body=signed_over(body)),
            )


def _indented(body: Any) -> bytes:
    return json.dumps(body, indent=1).encode()


def security_headers(spec: Spec, operation: Operation) -> list[str]:
    """The header names of the operation's (or the spec's default) first security requirement
    whose schemes are all API keys in headers; [] when there is none."""
    _item, node = _operation_node(spec, operation)
    requirements = node.get("security", spec.document.get("security", []))
    schemes = spec.document.get("components", {}).get("securitySchemes", {})
    for requirement in requirements:
        found = [follow(spec.document, schemes.get(name, {})) for name in requirement]
        if found and all(s.get("type") == "apiKey" and s.get("in") == "header" for s in found):
            return [str(s["name"]) for s in found]
    return []


def derive(
    spec: Spec | None = None,
    team: str = demo.TEAM,
    *,
    first_thread: int = FIRST_THREAD,
    bot_id: str = demo.BOT_ID,
    fixtures: Fixtures | None = None,
    left_out: Sequence[str] = (),
) -> list[Boundary]:
    """Every boundary case of every operation of `spec` (default: this repository's) but those
    `left_out`, for the bot `bot_id`'s `team`; case `i` acts on the thread
    `contract.demo.thread(first_thread + i)`, or with `fixtures` on theirs (`fuzzing.ids`)."""
    spec = spec or load()
    threads = itertools.count(first_thread)
    placer = IdPlacer(fixtures) if fixtures is not None else None
    cases: list[Boundary] = []
    for operation in spec:
        if operation.request_schema is not None and operation.method not in left_out:
            cases += _Builder(spec, operation, team, threads, bot_id, placer).build()
    return cases


# -- sending the cases and judging the answers -------------------------------------------------

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
            if self.ledger is not None:
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


def judge(
    cases: Sequence[Boundary],
    send: Transport,
    url: str,
    *,
    started: float | None = None,
    bot_id: str | None = None,
) -> Found:
    """Send every case and compare its status with the contract's. One violation per field
    and constraint: the first case that failed it, and how many more did, on which operations."""
    from fuzzing.results import Violation

    started = time.monotonic() if started is None else started
    found = Found()
    first: dict[tuple[str, str], Violation] = {}
    later: dict[tuple[str, str], list[Boundary]] = {}
    for case in cases:
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
        from fuzzing.runner import ConfigurationError

        raise ConfigurationError(f"cannot derive the boundary cases: {error}") from None
    transport = HttpTransport(options.url, options.bot, ledger=ledger)
    try:
        return judge(cases, transport, options.url, started=started, bot_id=options.bot.bot_id)
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

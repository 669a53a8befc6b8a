"""The boundary cases of every operation, derived from openapi.yaml (`derive`).

One builder turns an operation into all its cases (body, media type, size, team, signature
forgeries), sharing the operation's valid request and its expected statuses; what the cases
are and why is told in `fuzzing.boundaries`, which sends them and judges the answers.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from contract import demo
from contract.fixtures import Fixtures
from contract.rules import THREAD_FIELD, UNKNOWN_ID, USER_FIELD
from contract.spec import JSON, TEAM_PARAMETER, Operation, Spec, load
from fuzzing import forgeries
from fuzzing.boundary_requests import (
    Boundary,
    accepted,
    apply,
    encode,
    indented,
    media_types,
    padded,
    path_parameters,
    security_headers,
    show,
    value_at,
)
from fuzzing.ids import IdPlacer
from fuzzing.mutations import MISSING, field_name, mutations
from fuzzing.request_signing import PROPER, SIGNATURE_HEADER, Signing
from fuzzing.schema_values import branches, instance, neighbours, valid, value_kind

#: Case `i` uses the thread `contract.demo.thread(FIRST_THREAD + i)`, which no other phase uses.
FIRST_THREAD: Final = 900_000
#: Media types that are not JSON, sent with a valid JSON body.
OTHER_MEDIA_TYPES: Final = ("text/plain", "application/x-www-form-urlencoded")


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
        encoded = encode(body) if raw is None else raw
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
        for number, branch in enumerate(branches(self.root)):
            where = f"{self.operation.request_schema}, branch {number}"
            minimal = instance(branch, where)
            full = instance(branch, where, full=True)
            self.add("body", "required", "only the required fields", "", self.fresh(minimal))
            self.add("body", "properties", "every field", "", self.fresh(full))
            for mutation in mutations(branch, full):
                base = self.fresh(full if mutation.full else minimal)
                if value_at(base, mutation.path[:-1]) is MISSING:
                    continue
                body = apply(base, mutation)
                shown = show(value_at(body, mutation.path))
                self.add(
                    field_name(mutation.path), mutation.constraint, mutation.label, shown, body
                )
        minimal = instance(branches(self.root)[0], str(self.operation.request_schema))
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
        self.add(THREAD_FIELD, "an existing thread", label, show(outside[THREAD_FIELD]), outside)
        if USER_FIELD in known:
            stranger = {**known, USER_FIELD: demo.user(next(self.threads))}
            self.add(USER_FIELD, "an existing user", label, show(stranger[USER_FIELD]), stranger)

    def body_cases(self, minimal: Any) -> None:
        kind = f"type {value_kind(self.root) or 'object'}"
        for other, label in (([minimal], "a JSON array"), (None, "null"), ("x", "a string")):
            if not valid(self.root, other):
                self.add("body", kind, label, show(other), other)
        text = encode(self.fresh(minimal))
        self.add("body", "JSON", "one byte short", show(text[:-1].decode()), None, raw=text[:-1])
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
                raw=encode(self.fresh(minimal)),
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
                raw=padded(body, size),
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
            raw=padded(self.fresh(minimal), limit + 1),
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
            raw=padded(invalid, limit + 1),
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
                show(value),
                body,
                raw=encode(body),
                status=status,
                team=value,
            )
            # ... and before the media type is looked at (400 teamId, 403 before 415).
            body = self.fresh(minimal)
            self.add(
                TEAM_PARAMETER,
                f"{constraint} ({status} before 415)",
                f"{label}, sent as text/plain",
                show(value),
                body,
                raw=encode(body),
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
            raw=encode(body),
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
        other = encode(self.fresh(minimal))  # another request's body, on a thread of its own
        others: tuple[tuple[str, Callable[[Any], bytes], Callable[[Any], bytes]], ...] = (
            ("signed over another request's body", lambda _b: other, encode),
            # the same JSON in other bytes: the signature covers its compact re-serialization
            ("signed over the body re-serialized (compact JSON)", encode, indented),
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

"""The call events a change causes, written into the outbox in the change's own transaction.

Which events a change causes is the contract model's (`contract.rules`: `Rule.events` of the
operation, or of the platform's `hangup` and `dtmf`); their fields are the spec's
(`contract.spec.load().events`). What the sandbox must make up, it derives from the ids:

- `streamId`: the sandbox has no streams; every thread of a team is in one stream, whose id is
  the first 24 hex digits of SHA-256 of `"stream:" + teamId`.
- `phoneNumber`: `8` and ten digits, the user's id (as a number) modulo 10^10.

The outbox holds one row per change and webhook: not the events' bodies but the facts they
are made from (`Recorder.facts`: the method, the users counted, the values only the change
knows and the events' ids), with the bots installed in the change's team; whoever delivers
the row makes the bodies (`Recorder.expand`), once per bot, signed as that bot
(`reference_server.delivery`). So a change costs its server one small row, and the bodies
are made beside a database file by the relay (`reference_server.relay`), on another core.
`Recorder.record` runs in the store's transaction: the events are committed with the change
or not at all, and an outbox already holding `max_pending` undelivered events refuses the
change (`OutboxFull`, answered 503).
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii

from contract.rules import PLATFORM, RULES, Rule
from contract.spec import Spec, load

from .outbox import Outbox

#: How many undelivered event rows the outbox holds at most, by default.
DEFAULT_MAX_PENDING = 10_000

_encode = json.JSONEncoder(separators=(",", ":")).encode
#: The events' ids: 128 random bits each, from a generator seeded by the system's randomness
#: (they tell events apart; no secret depends on them), without a system call per change.
_ids = random.Random(secrets.token_bytes(32))


def _json(value: object) -> str:
    """`value` as compact JSON, as `json.dumps(value, separators=(",", ":"))` writes it."""
    if type(value) is str:
        return encode_basestring_ascii(value)
    if type(value) is int:
        return str(value)
    return _encode(value)


def _json_object(values: Mapping[str, object]) -> str:
    """`values` as a compact JSON object (as `_json` writes it, without its dispatch)."""
    members = [f"{encode_basestring_ascii(name)}:{_json(value)}" for name, value in values.items()]
    return "{" + ",".join(members) + "}"


class OutboxFull(Exception):
    """The change would cause more undelivered events than the outbox holds (HTTP 503)."""


@functools.lru_cache(maxsize=1024)
def stream_id(team_id: str) -> str:
    """The sandbox's stream of every thread of a team."""
    return hashlib.sha256(f"stream:{team_id}".encode()).hexdigest()[:24]


@functools.lru_cache(maxsize=4096)
def phone_number(user_id: str) -> str:
    """The sandbox's phone number of a user."""
    return f"8{int(user_id, 16) % 10**10:010d}"


def thread_key(team_id: str, thread_id: str) -> str:
    """What the events of one thread share: they are delivered in order within it (the team
    first: its id has no `/`)."""
    return f"{team_id}/{thread_id}"


def new_ids(count: int) -> str:
    """The ids of `count` events, 32 hex digits each: one draw for all of them."""
    return f"{_ids.getrandbits(128 * count):0{32 * count}x}"


def rule_of(method: str) -> Rule:
    """The rule of an operation (`call/start`) or of what only the platform causes (`dtmf`)."""
    return RULES[method] if method in RULES else PLATFORM[method]


@dataclass(frozen=True)
class Recorder:
    """Writes the events of a change into the outbox, one row per webhook and bot."""

    webhooks: Sequence[str]
    #: The ids of the bots installed in each team: an event of a team goes to each of them.
    bots_of_team: Mapping[str, Sequence[str]]
    max_pending: int = DEFAULT_MAX_PENDING
    spec: Spec | None = None
    #: The bodies' templates (`_plan`), made on first use.
    _plans: dict[tuple[str, tuple[str, ...]], tuple[tuple[str | None, str], ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def count(
        self, method: str, counted: Sequence[str] = (), values: Mapping[str, object] | None = None
    ) -> int:
        """How many events the change causes."""
        names = tuple(values) if values else ()
        plan = self._plans.get((method, names)) or self._plan(method, names)
        count = 0
        for user_field, _ in plan:
            count += len(counted) if user_field else 1
        return count

    def bodies(
        self,
        team_id: str,
        thread_id: str,
        method: str,
        counted: Sequence[str] = (),
        values: Mapping[str, object] | None = None,
        ids: str | None = None,
    ) -> list[bytes]:
        """The JSON body of each event the change causes, in order. `values` has the fields
        only the change knows (`createdAt`, `dtmfNumber`); `ids` the events' ids, 32 hex
        digits each, in order (None: new ones)."""
        count = self.count(method, counted, values)
        if not count:
            return []
        names = tuple(values) if values else ()
        plan = self._plans[(method, names)]  # made by `count`
        if ids is None:
            ids = new_ids(count)
        # Each value as JSON once; each body fills its template with them (by name).
        known = {"@thread": _json(thread_id), "@stream": _json(stream_id(team_id))}
        if values:
            for name, value in values.items():
                known[name] = _json(value)
        bodies = []
        start = 0
        for user_field, template in plan:
            if user_field:
                for user in counted:
                    known["@id"] = f'"{ids[start : start + 32]}"'
                    known["@user"] = _json(user)
                    known["@phone"] = _json(phone_number(user))
                    bodies.append((template % known).encode())
                    start += 32
            else:
                known["@id"] = f'"{ids[start : start + 32]}"'
                bodies.append((template % known).encode())
                start += 32
        return bodies

    def _plan(
        self, method: str, value_names: tuple[str, ...]
    ) -> tuple[tuple[str | None, str], ...]:
        """For each kind of event the method causes: the field naming its user (None: one
        event, not one per user), and its body as a %-template of named values (its fields in
        the spec's order); made once per method and fields of `values`."""
        events = (self.spec or load()).events
        plan = []
        for emits in rule_of(method).events:
            # What each field holds; a later source wins, as in the dict of an event's fields.
            source = {"eventType": "", "threadId": "@thread", "streamId": "@stream"}
            source.update({name: name for name in value_names})
            if emits.user_field:
                source[emits.user_field] = "@user"
            source["eventId"] = "@id"
            if emits.user_field:
                source["phoneNumber"] = "@phone"
            members = []
            for name in events[emits.event_type].fields:
                if name not in source:
                    continue
                label = encode_basestring_ascii(name).replace("%", "%%")
                if source[name]:
                    key = source[name].replace("%", "%%").replace(")", "")
                    members.append(f"{label}:%({key})s")
                else:
                    members.append(f"{label}:{_json(emits.event_type).replace('%', '%%')}")
            plan.append((emits.user_field, "{" + ",".join(members) + "}"))
        self._plans[(method, value_names)] = result = tuple(plan)
        return result

    def record(
        self,
        outbox: Outbox,
        team_id: str,
        thread_id: str,
        method: str,
        counted: Sequence[str] = (),
        values: Mapping[str, object] | None = None,
    ) -> int:
        """Write the change's events into `outbox` (inside the change's transaction), as
        their facts: one row per webhook; answer how many events, once per bot and webhook,
        they are. `OutboxFull` when over `max_pending`."""
        count = self.count(method, counted, values)
        bots = self.bots_of_team.get(team_id, ())
        each = count * len(bots)
        if not each:
            return 0
        waiting = outbox.pending()
        if waiting + each * len(self.webhooks) > self.max_pending:
            raise OutboxFull(
                f"{waiting} events wait for a webhook that does not take them (at most "
                f"{self.max_pending}): try again later"
            )
        key = thread_key(team_id, thread_id)
        facts = self.facts(method, counted, values, new_ids(count))
        for webhook in self.webhooks:
            outbox.write(webhook, bots, key, facts, each)
        return each * len(self.webhooks)

    @staticmethod
    def facts(
        method: str, counted: Sequence[str], values: Mapping[str, object] | None, ids: str
    ) -> bytes:
        """What an outbox row holds of a change: its method, the users counted, the values
        only it knows (as JSON) and its events' ids, separated by tabs. The ids of users
        that requests name are the spec's ObjectIds (hex digits); others are refused."""
        users = ",".join(counted)
        if "\t" in users or users.count(",") >= len(counted) > 0:
            raise ValueError(f"a user's id with a comma or a tab cannot be recorded: {users!r}")
        given = _json_object(values) if values else ""
        return f"{method}\t{users}\t{given}\t{ids}".encode()

    def expand(self, key: str, facts: bytes) -> list[bytes]:
        """The bodies of the events of a change, from its row in the outbox (`facts`) and
        its thread's key: the same every time (their ids are in the row)."""
        method, users, given, ids = facts.decode().split("\t")
        team_id, _, thread_id = key.partition("/")
        values = json.loads(given) if given else None
        counted = users.split(",") if users else ()
        return self.bodies(team_id, thread_id, method, counted, values, ids)


def recorder_for(
    webhooks: Iterable[str],
    teams_of_bot: Mapping[str, Iterable[str]],
    max_pending: int = DEFAULT_MAX_PENDING,
    spec: Spec | None = None,
) -> Recorder | None:
    """A recorder for these webhooks and bots (None without webhooks: nothing is recorded);
    the events' fields come from `spec` (default: this repository's)."""
    hooks = list(dict.fromkeys(webhooks))
    if not hooks:
        return None
    bots_of_team: dict[str, list[str]] = {}
    for bot_id, teams in teams_of_bot.items():
        for team in teams:
            bots_of_team.setdefault(team, []).append(bot_id)
    return Recorder(hooks, bots_of_team, max_pending, spec)

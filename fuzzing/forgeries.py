"""Forged signatures, derived from the domain of each input of the signature.

The contract asks for three headers (`contract.signing`): `X-Bot-Id`, the id of a known bot;
`X-timestamp`, the time in whole Unix seconds within the window of `x-max-skew-seconds` of the
server's clock; `X-Signature`, the lowercase hexadecimal SHA-256 of
`botId + secretkey + timestamp + body`. Each forgery misses one of these by as little as
possible, and every one must be refused with 401:

- each header's text: in another case, one character more or less, empty, a space inside;
- the bot's id: another id of the same form;
- the time: in milliseconds or microseconds, with a fraction, a leading zero, a sign, in
  hexadecimal or as a date, 0, far in the past or future; just beyond the window on each side,
  and beyond it by 2^32 or 2^64 seconds (the same time where arithmetic wraps);
- the signature: parts of it, another alphabet, another hash of the same inputs, HMAC with
  the key, the inputs in another order (each two swapped) or one of them left out.

A re-spelled bot id or time is sent twice: signed over the text sent, and signed over the
value as it should have been written (which a server that rewrites the header before it checks
the signature would take). The twins that must be accepted: each header surrounded by spaces
(RFC 9110: not part of the value) when the signature covers the value, and a time just within
the window.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from fuzzing.request_signing import (
    BOT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Bot,
    Signing,
)
from fuzzing.spellings import (
    BOT_ID,
    DIGEST_LABELS,
    DIGESTS,
    INPUTS,
    KEYED,
    PROPER_DIGEST,
    SAME_VALUE,
    SIGNATURE,
    TEXT,
    TIMESTAMP,
    Spelling,
)

#: What each header must be, in the contract's words.
KNOWN_BOT: Final = "security: a known bot"
WHOLE_SECONDS: Final = "security: the time in whole Unix seconds"
LOWERCASE_HEX: Final = "security: the lowercase hexadecimal SHA-256"
SIGNED_INPUTS: Final = f"security: SHA-256 of {' + '.join(INPUTS)}"
#: Seconds beyond the window at which the time is the same again where arithmetic wraps.
WRAPS: Final = (32, 64)


@dataclass(frozen=True, slots=True)
class Forgery:
    """One forged signature: which header, which rule it misses, how, and whether the contract
    still accepts it (a value written with spaces around it, a time within the window)."""

    header: str
    constraint: str
    label: str
    signing: Signing
    accepted: bool = False


def derive(headers: Sequence[str], bot_id: str, window: int | None) -> list[Forgery]:
    """The forgeries of the signature headers among `headers`, for the bot `bot_id` (a
    spelling that would leave its id as it is is skipped), with the timestamp's `window` in
    seconds (None: no window cases)."""
    samples = Bot(bot_id, "").headers(b"")  # how each header looks, to skip what is no change
    found: list[Forgery] = []
    if BOT_ID_HEADER in headers:
        found += _respelled(BOT_ID_HEADER, KNOWN_BOT, {**TEXT, **BOT_ID}, samples[BOT_ID_HEADER])
    if TIMESTAMP_HEADER in headers:
        found += _respelled(
            TIMESTAMP_HEADER, WHOLE_SECONDS, {**TEXT, **TIMESTAMP}, samples[TIMESTAMP_HEADER]
        )
        if window is not None:
            found += _window(window)
    if SIGNATURE_HEADER in headers:
        found += _signatures(samples[SIGNATURE_HEADER])
    return found


def _changes(spellings: dict[str, Spelling], sample: str) -> Iterator[tuple[str, Spelling]]:
    for name, spelling in spellings.items():
        if spelling.change(sample) != sample:
            yield name, spelling


def _respelled(
    header: str, constraint: str, spellings: dict[str, Spelling], sample: str
) -> Iterator[Forgery]:
    for name, spelling in _changes(spellings, sample):
        for signs_value in (False, True):
            over = "the value" if signs_value else "the text sent"
            yield Forgery(
                header,
                constraint,
                f"{spelling.label}, signed over {over}",
                Signing(spell=(header, name), signs_value=signs_value),
                accepted=signs_value and name == SAME_VALUE,
            )


def _window(window: int) -> Iterator[Forgery]:
    constraint = f"security: within {window} s of the server's clock"
    beyond, within = window + 1, window - 1
    for offset, label, accepted in (
        (-beyond, f"stale, {beyond} s in the past", False),
        (beyond, f"{beyond} s in the future", False),
        (-within, f"{within} s in the past", True),
        (within, f"{within} s in the future", True),
    ):
        yield Forgery(TIMESTAMP_HEADER, constraint, label, Signing(offset=offset), accepted)
    for bits in WRAPS:
        yield Forgery(
            TIMESTAMP_HEADER,
            constraint,
            f"2^{bits} s in the future (the time itself where {bits}-bit arithmetic wraps)",
            Signing(offset=2**bits),
        )


def _signatures(sample: str) -> Iterator[Forgery]:
    for name, spelling in _changes({**TEXT, **SIGNATURE}, sample):
        yield Forgery(
            SIGNATURE_HEADER,
            LOWERCASE_HEX,
            spelling.label,
            Signing(spell=(SIGNATURE_HEADER, name)),
            accepted=name == SAME_VALUE,
        )
    yield Forgery(
        SIGNATURE_HEADER,
        "security: the bot's signature",
        "a wrong signature (its last digit changed)",
        Signing(tamper=True),
    )
    for digest in DIGESTS:
        if digest != PROPER_DIGEST:
            inputs = tuple(i for i in INPUTS if i != "secretkey") if digest == KEYED else INPUTS
            signing = Signing(digest=digest, order=inputs)
            yield Forgery(SIGNATURE_HEADER, SIGNED_INPUTS, DIGEST_LABELS[digest], signing)
    for first, second in itertools.combinations(range(len(INPUTS)), 2):
        order = list(INPUTS)
        order[first], order[second] = order[second], order[first]
        label = f"{INPUTS[first]} and {INPUTS[second]} swapped: {' + '.join(order)}"
        yield Forgery(SIGNATURE_HEADER, SIGNED_INPUTS, label, Signing(order=tuple(order)))
    for left_out in INPUTS:
        order = [name for name in INPUTS if name != left_out]
        label = f"without {left_out}: {' + '.join(order)}"
        yield Forgery(SIGNATURE_HEADER, SIGNED_INPUTS, label, Signing(order=tuple(order)))

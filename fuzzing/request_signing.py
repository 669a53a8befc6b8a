"""How the fuzzer signs what it sends, and how its reproductions sign again.

Contract 2.0.0 asks for three headers on every request: `X-Bot-Id`, `X-timestamp` and
`X-Signature`, the SHA-256 of `botId + secretkey + timestamp + body` over the exact bytes sent
(`contract.signing`). A signature is only valid for about five minutes, so nothing the fuzzer
writes down (curl lines, replay files, reports) carries one: reproductions sign again when they
run, with `python -m fuzzing sign`, reading the secret key from `$WORKONFLOW_SECRET_KEY`. The
secret key is never printed, never written and never part of an exception's message.

- `credentials()`: the bot of a run, from options or the environment, else the demo bot.
- `SignedAuth`: a `requests` auth that signs the prepared request (its final body bytes).
- `Signing`: how one request is signed, or forged (a header left out, a stale timestamp...).
- `shell()`: a shell snippet that signs a body and sends it with curl.
- `main()`: `python -m fuzzing sign`, the signer the snippets call.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import requests

from contract import demo
from contract.signing import (
    BOT_ID_HEADER,
    HEADERS,
    MAX_SKEW_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Bot,
    signature,
)
from fuzzing.spellings import DIGESTS, INPUTS, PROPER_DIGEST, SPELLINGS

__all__ = [
    "BOT_ID_HEADER",
    "HEADERS",
    "MAX_SKEW_SECONDS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Bot",
]

#: Where the bot id and its secret key come from when no option gives them.
BOT_ID_VARIABLE: Final = "WORKONFLOW_BOT_ID"
SECRET_VARIABLE: Final = "WORKONFLOW_SECRET_KEY"
#: The shell variables a reproduction snippet signs into (`eval "$(python -m fuzzing sign)"`).
SHELL_NAMES: Final = {
    BOT_ID_HEADER: "FUZZ_BOT_ID",
    TIMESTAMP_HEADER: "FUZZ_TIMESTAMP",
    SIGNATURE_HEADER: "FUZZ_SIGNATURE",
}
#: The values `schemathesis.toml` gives the timestamp and signature: `SignedAuth` signs only a
#: request that carries exactly these (and the bot's id), so one whose headers schemathesis
#: removed or replaced on purpose (a negative case, an `ignored_auth` probe) goes as it is.
PLACEHOLDERS: Final = {TIMESTAMP_HEADER: "0", SIGNATURE_HEADER: "unsigned"}


def credentials(bot_id: str | None = None, secret_key: str | None = None) -> Bot:
    """The bot: the arguments, else `$WORKONFLOW_BOT_ID` / `$WORKONFLOW_SECRET_KEY`, else demo."""
    return Bot(
        bot_id or os.environ.get(BOT_ID_VARIABLE) or demo.BOT_ID,
        secret_key or os.environ.get(SECRET_VARIABLE) or demo.SECRET_KEY,
    )


def stamp(offset: int = 0, now: float | None = None) -> int:
    """A timestamp `offset` seconds from now, rounded so it stays at least that far off
    (a stale one down, a future one up) and within it when it must be accepted."""
    current = time.time() if now is None else now
    if offset < 0:
        return math.ceil(current) + offset if -offset <= MAX_SKEW_SECONDS else int(current) + offset
    if offset > MAX_SKEW_SECONDS:
        return math.ceil(current) + offset
    return int(current) + offset


def tampered(text: str) -> str:
    """`text` with its last hexadecimal digit changed (a near-miss signature)."""
    if not text:
        return "0"
    last = text[-1]
    return text[:-1] + ("0" if last != "0" else "1")


@dataclass(frozen=True, slots=True)
class Signing:
    """How a request is signed: properly by default, or forged in one way.

    A forged header value is named by a spelling of `fuzzing.spellings` (`spell`); the
    signature covers the headers as sent, or with `signs_value` the bot's id and the time as
    they should have been written (what a server that rewrites them before checking sees).
    """

    omit: str | None = None  # this header is left out
    offset: int = 0  # the timestamp is this many seconds from now
    signed_body: bytes | None = None  # the signature covers these bytes, not the body sent
    tamper: bool = False  # the signature has its last digit changed
    spell: tuple[str, str] | None = None  # (header, spelling): that header written otherwise
    signs_value: bool = False  # the signature covers the values, not the spelled headers
    digest: str = PROPER_DIGEST  # the digest of the inputs (`fuzzing.spellings.DIGESTS`)
    order: tuple[str, ...] = INPUTS  # the inputs concatenated, in this order

    def headers(self, bot: Bot, body: bytes, now: float | None = None) -> dict[str, str]:
        """The signature headers of a request with `body`, signed (or forged) now."""
        proper = {BOT_ID_HEADER: bot.bot_id, TIMESTAMP_HEADER: str(stamp(self.offset, now))}
        sent = dict(proper)
        header, spelling = self.spell or ("", "")
        if header in sent:
            sent[header] = SPELLINGS[spelling].change(sent[header])
        signed = proper if self.signs_value else sent
        signed_body = body if self.signed_body is None else self.signed_body
        sent[SIGNATURE_HEADER] = self._signature(bot, signed, signed_body)
        if header == SIGNATURE_HEADER:
            sent[SIGNATURE_HEADER] = SPELLINGS[spelling].change(sent[SIGNATURE_HEADER])
        if self.tamper:
            sent[SIGNATURE_HEADER] = tampered(sent[SIGNATURE_HEADER])
        if self.omit is not None:
            sent.pop(self.omit, None)
        return sent

    def _signature(self, bot: Bot, values: Mapping[str, str], body: bytes) -> str:
        if self.digest == PROPER_DIGEST and self.order == INPUTS:
            return signature(values[BOT_ID_HEADER], bot.secret_key, values[TIMESTAMP_HEADER], body)
        inputs = {
            "botId": values[BOT_ID_HEADER].encode(),
            "secretkey": bot.secret_key.encode(),
            "timestamp": values[TIMESTAMP_HEADER].encode(),
            "body": body,
        }
        message = b"".join(inputs[name] for name in self.order)
        return DIGESTS[self.digest](bot.secret_key.encode(), message)

    def sign_options(self) -> list[str]:
        """The options of `python -m fuzzing sign` that make these headers again."""
        options: list[str] = []
        if self.offset:
            options.append(f"--offset={self.offset}")
        if self.tamper:
            options.append("--tamper")
        if self.spell:
            options.append(f"--spell={self.spell[0]}={self.spell[1]}")
        if self.signs_value:
            options.append("--sign-value")
        if self.digest != PROPER_DIGEST:
            options.append(f"--digest={self.digest}")
        if self.order != INPUTS:
            options.append(f"--order={','.join(self.order)}")
        return options


PROPER: Final = Signing()


def is_signed(
    bot: Bot, headers: Mapping[str, Any], body: bytes | None, now: float | None = None
) -> bool:
    """Whether the headers carry `bot`'s valid, current signature of `body`."""
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    bot_id = lowered.get(BOT_ID_HEADER.lower())
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower())
    whole_seconds = timestamp.isdigit() and not timestamp.startswith("0")
    if bot_id != bot.bot_id or not whole_seconds or given is None:
        return False
    current = time.time() if now is None else now
    if abs(int(timestamp) - current) > MAX_SKEW_SECONDS:
        return False
    return given == signature(bot.bot_id, bot.secret_key, timestamp, body or b"")


def body_bytes(body: object) -> bytes:
    """The bytes of a prepared request's body (a stream or nothing: no bytes)."""
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    return b""


class SignedAuth(requests.auth.AuthBase):
    """Signs a prepared request over its final body, as `bot`.

    Only a request that carries `bot`'s id (or the demo bot's, which `schemathesis.toml` names
    for a plain `st run`) and the placeholders of `schemathesis.toml` (`PLACEHOLDERS`) is
    signed: the bot's id, the timestamp set to now, the signature over the exact bytes. A
    request whose security headers schemathesis left out or changed on purpose (a negative
    case of a required header, the probes of `ignored_auth`) is sent as it is, unsigned.
    """

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        headers = request.headers
        if headers.get(BOT_ID_HEADER) not in (self.bot.bot_id, demo.BOT_ID) or any(
            headers.get(name) != value for name, value in PLACEHOLDERS.items()
        ):
            return request
        request.headers.update(self.bot.headers(body_bytes(request.body)))
        return request

    def __repr__(self) -> str:
        return f"SignedAuth(bot_id={self.bot.bot_id!r})"


# -- reproductions ------------------------------------------------------------------------------


def shell_body(body: bytes) -> str:
    """A shell word that expands to exactly `body` (long runs of trailing spaces via printf)."""
    text = body.rstrip(b" ")
    padding = len(body) - len(text)
    decoded = text.decode("utf-8", errors="replace")
    if padding > 16:
        return f"\"$(printf '%s%{padding}s' {shlex.quote(decoded)} '')\""
    return shlex.quote(body.decode("utf-8", errors="replace"))


def shell(
    url: str,
    body: bytes,
    *,
    content_type: str | None = "application/json",
    signing: Signing = PROPER,
    bot_id: str | None = None,
    extra_headers: Sequence[str] = (),
) -> str:
    """A shell snippet that signs `body` when it runs and sends it with curl.

    `python -m fuzzing sign` reads the secret key from `$WORKONFLOW_SECRET_KEY` (the demo
    bot's when unset); `bot_id` is the run's bot, given so that the snippet signs as it.
    """
    lines = [f"body={shell_body(body)}"]
    signed = shell_body(signing.signed_body) if signing.signed_body is not None else '"$body"'
    options = (["--bot-id", bot_id] if bot_id else []) + signing.sign_options()
    command = " ".join(["python -m fuzzing sign --shell", *map(shlex.quote, options)])
    lines.append(f'eval "$(printf %s {signed} | {command})"')
    parts = ["curl", "-X", "POST"]
    for header in HEADERS:
        if signing.spell == (header, "empty"):
            parts.append(f"-H '{header};'")  # how curl sends a header with an empty value
        elif header != signing.omit:
            parts.append(f'-H "{header}: ${SHELL_NAMES[header]}"')
    # `Content-Type:` with no value keeps curl from adding its own (form-urlencoded).
    parts.append("-H " + shlex.quote(f"Content-Type: {content_type or ''}".rstrip()))
    parts += ["-H " + shlex.quote(h) for h in extra_headers]
    parts += ['--data-binary "$body"', shlex.quote(url)]
    lines.append(" ".join(parts))
    return "\n".join(lines)


# -- python -m fuzzing sign ---------------------------------------------------------------------


def sign_parser() -> argparse.ArgumentParser:
    """The options of `python -m fuzzing sign` (`Signing.sign_options` writes them)."""
    parser = argparse.ArgumentParser(
        prog="python -m fuzzing sign",
        description="Print the X-Bot-Id, X-timestamp and X-Signature headers of a request body, "
        f"signed now. The secret key is read from ${SECRET_VARIABLE} (default: the demo bot's), "
        "never from the command line, and is never printed.",
    )
    parser.add_argument(
        "--body-file",
        default="-",
        help="the exact bytes of the body ('-': standard input, the default)",
    )
    parser.add_argument(
        "--bot-id", default=None, help=f"the bot (default: ${BOT_ID_VARIABLE}, else the demo bot)"
    )
    parser.add_argument(
        "--offset",
        type=int,
        default=0,
        help="seconds to add to the timestamp (to reproduce a stale or future one)",
    )
    parser.add_argument(
        "--tamper", action="store_true", help="change the signature's last digit (a forgery)"
    )
    parser.add_argument(
        "--spell",
        metavar="HEADER=SPELLING",
        default=None,
        help=f"write that header otherwise (a forgery): {', '.join(SPELLINGS)}",
    )
    parser.add_argument(
        "--sign-value",
        action="store_true",
        help="sign the bot's id and the time as they should be written, not as --spell wrote them",
    )
    parser.add_argument(
        "--digest", choices=sorted(DIGESTS), default=PROPER_DIGEST, help="the digest (a forgery)"
    )
    parser.add_argument(
        "--order",
        default=",".join(INPUTS),
        help="the inputs of the signature, concatenated in this order (a forgery)",
    )
    parser.add_argument(
        "--shell",
        action="store_true",
        help="print shell assignments (FUZZ_BOT_ID=..., for eval) instead of header lines",
    )
    return parser


def main(argv: Sequence[str], out: Any = None) -> int:
    """`python -m fuzzing sign`: print the signature headers of a body, signed now."""
    out = sys.stdout if out is None else out
    args = sign_parser().parse_args(list(argv))
    try:
        if args.body_file == "-":
            body = sys.stdin.buffer.read()
        else:
            with open(args.body_file, "rb") as handle:
                body = handle.read()
    except OSError as error:
        print(f"sign: cannot read {args.body_file}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        forged = forgery(args)
    except ValueError as error:
        print(f"sign: {error}", file=sys.stderr)
        return 2
    headers = forged.headers(credentials(args.bot_id), body)
    for name, value in headers.items():
        if args.shell:
            print(f"{SHELL_NAMES[name]}={shlex.quote(value)}", file=out)
        else:
            print(f"{name}: {value}", file=out)
    return 0


def forgery(args: argparse.Namespace) -> Signing:
    """The `Signing` that the options of `python -m fuzzing sign` describe."""
    spell: tuple[str, str] | None = None
    if args.spell:
        header, _equals, name = args.spell.partition("=")
        if header not in HEADERS or name not in SPELLINGS:
            raise ValueError(
                f"--spell {args.spell!r}: expected HEADER=SPELLING, a header of "
                f"{', '.join(HEADERS)} and a spelling of {', '.join(SPELLINGS)}"
            )
        spell = (header, name)
    order = tuple(args.order.split(","))
    if set(order) - set(INPUTS):
        raise ValueError(f"--order {args.order!r}: the inputs are {', '.join(INPUTS)}")
    return Signing(
        offset=args.offset,
        tamper=args.tamper,
        spell=spell,
        signs_value=args.sign_value,
        digest=args.digest,
        order=order,
    )


# -- the bot of the run in progress --------------------------------------------------------------

_ACTIVE: list[Bot] = []


def activate(bot: Bot | None) -> None:
    """Make `bot` the one schemathesis's requests are signed as (`fuzzing.checks`'s hook)."""
    _ACTIVE.clear()
    if bot is not None:
        _ACTIVE.append(bot)


def active() -> Bot | None:
    return _ACTIVE[0] if _ACTIVE else None

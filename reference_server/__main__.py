"""Command line of the reference server: `python -m reference_server --help`."""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import re
import signal
import socket
import sqlite3
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any, TextIO

from contract import demo
from contract.fixtures import Fixtures, FixturesError, read

from .app import DEMO_BOT, create_app
from .auth import Bot, parse_bot
from .delivery import DEFAULT_RETRY_BASE
from .events import DEFAULT_MAX_PENDING
from .limits import Limits
from .store import DEFAULT_BUSY_TIMEOUT
from .webhook_client import check_url, shown_url

DEFAULT_DATABASE = "reference-server.sqlite3"
BOTS_VARIABLE = "WORKONFLOW_BOTS"
WEBHOOKS_VARIABLE = "WORKONFLOW_WEBHOOK"


def parse_webhooks(environment: str | None, options: Sequence[str]) -> list[str]:
    """Webhook URLs from the environment variable (separated by white space or `;`), then the
    options, each once. ValueError names a URL that cannot be posted to."""
    urls = [item for item in re.split(r"[\s;]+", environment or "") if item] + list(options)
    return [check_url(url) for url in dict.fromkeys(urls)]


def parse_bots(environment: str | None, options: Sequence[str]) -> list[Bot]:
    """Bots from the environment variable (separated by white space or `;`), then the options;
    the demo bot when neither names one. ValueError names a bad entry, never its secret."""
    texts = [(BOTS_VARIABLE, item) for item in re.split(r"[\s;]+", environment or "") if item]
    texts += [("--bot", item) for item in options]
    bots: dict[str, Bot] = {}
    for source, text in texts:
        try:
            bot = parse_bot(text)
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None
        bots[bot.bot_id] = bot  # a later entry for the same bot replaces an earlier one
    return list(bots.values()) or [DEMO_BOT]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reference_server",
        description="The reference server of the Workonflow Call API: a stateful local sandbox.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to listen on, 0 for any free one (%(default)s)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--database",
        default=DEFAULT_DATABASE,
        help="SQLite file that keeps the state across restarts (%(default)s)",
    )
    where.add_argument(
        "--memory", action="store_true", help="keep the state in memory only (a throwaway run)"
    )
    parser.add_argument(
        "--bot",
        action="append",
        default=[],
        metavar="BOT_ID=SECRET:TEAM[,TEAM]",
        help=f"a bot whose signed requests are accepted, its secret key and the teams it is "
        f"installed in; repeatable. Also from {BOTS_VARIABLE} (bots separated by spaces or "
        f"';'), which keeps secrets off the command line. Default: the demo bot {demo.BOT_ID} "
        "in the demo team (its secret key is in the README)",
    )
    parser.add_argument(
        "--public-url",
        default=None,
        help="address that fileUrl and streamUrl start with (default: the address a request "
        "came in on)",
    )
    parser.add_argument(
        "--synchronous",
        choices=["NORMAL", "FULL"],
        default="NORMAL",
        type=str.upper,
        help="SQLite synchronous mode: NORMAL survives a killed process, FULL also a power "
        "loss, at an fsync per request (%(default)s)",
    )
    parser.add_argument(
        "--webhook",
        action="append",
        default=[],
        metavar="URL",
        help=f"deliver the call events to this URL (signed POSTs, see the README); repeatable. "
        f"Also from {WEBHOOKS_VARIABLE} (URLs separated by spaces or ';')",
    )
    parser.add_argument(
        "--webhook-retry",
        type=float,
        default=DEFAULT_RETRY_BASE,
        metavar="SECONDS",
        help="delay before an event the webhook did not take is sent again; it doubles with "
        "each attempt, up to a minute (%(default)s)",
    )
    parser.add_argument(
        "--max-pending-events",
        type=int,
        default=DEFAULT_MAX_PENDING,
        metavar="N",
        help="undelivered events the outbox holds at most; past it a change answers 503 "
        "(%(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log a line per request")
    add_limit_options(parser)
    add_staging_options(parser)
    return parser


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not above 0")
    return value


def add_staging_options(parser: argparse.ArgumentParser) -> None:
    """Options that make the sandbox behave like a real deployment (off by default)."""
    group = parser.add_argument_group(
        "staging-like behaviour", "off by default: threads and users are made on demand"
    )
    group.add_argument(
        "--known-ids",
        metavar="FILE",
        default=None,
        help="a TOML file of the threads and users that exist (`threads = [...]`, "
        "`users = [...]`, the format of the fuzzer's --fixtures); a valid body naming any "
        "other id answers 404 naming threadId, userId or userIds",
    )
    group.add_argument(
        "--rate-limit",
        type=_rate,
        default=None,
        metavar="N",
        help="at most N requests per second (one second of burst); more answer 429 with "
        "Retry-After",
    )


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """The options that bound what a client (or another process) can make the server wait for."""
    group = parser.add_argument_group("limits")
    group.add_argument(
        "--busy-timeout",
        type=float,
        default=DEFAULT_BUSY_TIMEOUT,
        metavar="SECONDS",
        help="how long a request waits for the database while another process holds its write "
        "lock, before it answers 503 with Retry-After (%(default)s)",
    )
    defaults = Limits()
    for option, field, kind, text in _LIMIT_OPTIONS:
        group.add_argument(
            option,
            dest=field,
            type=kind,
            default=getattr(defaults, field),
            metavar="N" if field.startswith("max") else "SECONDS",
            help=f"{text} (%(default)s)",
        )
    group.add_argument(
        "--grace",
        type=float,
        default=DEFAULT_GRACE,
        metavar="SECONDS",
        help="on SIGTERM or Ctrl-C, how long open requests may still finish before their "
        "connections are closed; a second signal closes them at once (%(default)s)",
    )


DEFAULT_GRACE = 5.0

#: The options of `Limits`: option, field, type, what it bounds.
_LIMIT_OPTIONS: list[tuple[str, str, type, str]] = [
    ("--max-head-bytes", "max_head_bytes", int, "request line and headers, in bytes: else 431"),
    ("--max-headers", "max_headers", int, "header fields of a request: else 431"),
    ("--max-target-bytes", "max_target_bytes", int, "request target (path), in bytes: else 414"),
    ("--head-timeout", "head_timeout", float, "seconds to receive a request's head: else 408"),
    ("--body-timeout", "body_timeout", float, "seconds to receive a body after its head: else 408"),
    ("--keep-alive", "keep_alive", int, "seconds an idle keep-alive connection stays open"),
    (
        "--max-connections",
        "max_connections",
        int,
        "open connections; a request on one more answers 503. 0: 1000, or half the open-files "
        "limit (ulimit -n) when that is lower",
    ),
]


def limits_from(args: argparse.Namespace) -> Limits:
    return Limits(**{field: getattr(args, field) for _, field, _, _ in _LIMIT_OPTIONS})


class _Lines:
    """The access log: lines are written together, at most 50 ms after their request.

    A write and a flush per request would cost about a sixth of the server's throughput.
    """

    DELAY = 0.05

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.pending: list[str] = []

    def __call__(self, line: str) -> None:
        self.pending.append(line)
        if len(self.pending) == 1:
            asyncio.get_running_loop().call_later(self.DELAY, self.flush)

    def flush(self) -> None:
        if self.pending:
            lines, self.pending = self.pending, []
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()


def _server_class() -> type:
    from .serving import Server as Accepting

    class Server(Accepting):
        """Stops gracefully on SIGINT or SIGTERM, then exits 0 (uvicorn re-raises the signal)."""

        stopped_by = ""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            self.stopped_by = signal.Signals(sig).name
            if self.should_exit:
                self.force_exit = True  # a second signal: do not wait for open connections
            self.should_exit = True

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            """uvicorn's shutdown, and after the grace period (or a second signal) the open
            connections are closed: a client trickling a body cannot hold the stop."""
            closer = asyncio.create_task(_close_after_grace(self))
            try:
                await super().shutdown(sockets)
            finally:
                closer.cancel()

    return Server


async def _close_after_grace(server: Any) -> None:
    grace = server.config.timeout_graceful_shutdown or 0.0
    deadline = asyncio.get_running_loop().time() + grace
    while not server.force_exit and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    for connection in list(server.server_state.connections):
        connection.transport.close()
    for task in list(server.server_state.tasks):
        task.cancel()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _known_ids(parser: argparse.ArgumentParser, path: str | None) -> Fixtures | None:
    """The ids of `--known-ids`; a bad file stops the server with the file's line."""
    try:
        return read(path) if path else None
    except FixturesError as error:
        parser.error(f"--known-ids {error}")


def _announce_staging(known: Fixtures | None, args: argparse.Namespace) -> None:
    if known is not None:
        print(
            f"known ids: {len(known.threads)} threads, {len(known.users)} users "
            f"({args.known_ids}); any other id answers 404"
        )
    if args.rate_limit:
        print(f"rate limit: {args.rate_limit:g} requests/s; more answer 429 with Retry-After")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        bots = parse_bots(os.environ.get(BOTS_VARIABLE), args.bot)
        webhooks = parse_webhooks(os.environ.get(WEBHOOKS_VARIABLE), args.webhook)
    except ValueError as error:
        parser.error(str(error))
    if args.max_pending_events < 1:
        parser.error("--max-pending-events must be at least 1")
    if not args.webhook_retry > 0:
        parser.error("--webhook-retry must be more than 0 seconds")
    known = _known_ids(parser, args.known_ids)

    import uvicorn  # imported late: `--help` and option errors stay fast

    from .protocol import protocol_class

    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    access_log = None if args.quiet else _Lines(sys.stdout)
    database = ":memory:" if args.memory else args.database
    try:
        app = create_app(
            database,
            bots,
            base_url=args.public_url,
            synchronous=args.synchronous,
            access_log=access_log,
            busy_timeout=args.busy_timeout,
            webhooks=webhooks,
            max_pending=args.max_pending_events,
            retry_base=args.webhook_retry,
            known=known,
            rate_limit=args.rate_limit,
        )
    except (OSError, ValueError, RuntimeError, sqlite3.Error) as error:
        parser.error(f"cannot open the database {database}: {error}")
    try:
        sock = _listen(args.host, args.port)
    except (OSError, OverflowError) as error:
        app.close()
        parser.error(f"cannot listen on {args.host}:{args.port}: {error}")

    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"Workonflow Call API reference server on http://{shown}:{port}")
    print(f"state: {'in memory (lost at exit)' if args.memory else os.path.abspath(database)}")
    for bot in bots:
        demo_note = " (the demo bot: its secret key is in the README)" if bot == DEMO_BOT else ""
        print(f"{bot.describe()}{demo_note}")
    for url in webhooks:
        print(f"call events to {shown_url(url)}")
    _announce_staging(known, args)

    limits = limits_from(args)
    config = uvicorn.Config(
        app,
        http=protocol_class(limits),
        ws="none",
        timeout_keep_alive=limits.keep_alive,
        timeout_graceful_shutdown=args.grace,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
    )
    server = _server_class()(config)
    try:
        server.run(sockets=[sock])  # handles SIGINT and SIGTERM: finishes requests, then stops
    finally:
        app.close()
        if access_log is not None:
            access_log.flush()
    print(f"stopped ({server.stopped_by})" if server.stopped_by else "stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

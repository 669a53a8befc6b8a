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
from typing import TextIO

from contract import demo

from .app import DEMO_BOT, create_app
from .auth import Bot, parse_bot

DEFAULT_DATABASE = "reference-server.sqlite3"
BOTS_VARIABLE = "WORKONFLOW_BOTS"


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
    parser.add_argument("--quiet", action="store_true", help="do not log a line per request")
    return parser


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
    import uvicorn

    class Server(uvicorn.Server):
        """Stops gracefully on SIGINT or SIGTERM, then exits 0 (uvicorn re-raises the signal)."""

        stopped_by = ""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            self.stopped_by = signal.Signals(sig).name
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True  # a second Ctrl-C: do not wait for open connections
            self.should_exit = True

    return Server


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        bots = parse_bots(os.environ.get(BOTS_VARIABLE), args.bot)
    except ValueError as error:
        parser.error(str(error))

    import uvicorn  # imported late: `--help` and option errors stay fast

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

    config = uvicorn.Config(
        app,
        http="httptools",
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

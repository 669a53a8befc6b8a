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

from .app import DEMO_BOT, check_bots, create_app
from .auth import Bot, parse_bot

DEFAULT_DATABASE = "reference-server.sqlite3"
BOTS_VARIABLE = "WORKONFLOW_BOTS"
#: Between the bots of WORKONFLOW_BOTS: whitespace or `;` (a comma separates a bot's teams).
_BETWEEN_BOTS = re.compile(r"[\s;]+")


def parse_bots(environment: str | None, options: Sequence[str]) -> list[Bot]:
    """Bots from the environment variable, then the options; the demo bot when neither.

    A ValueError names where the bad value is (`--bot 2`, `WORKONFLOW_BOTS item 1`) and what
    is wrong with it, never the value itself: it may hold a secret key.
    """
    bots: list[Bot] = []
    items = [item for item in _BETWEEN_BOTS.split(environment or "") if item]
    sources = [f"{BOTS_VARIABLE} item {n}" for n in range(1, len(items) + 1)]
    items += options
    sources += [f"--bot {n}" for n in range(1, len(options) + 1)]
    for source, item in zip(sources, items, strict=True):
        try:
            bots.append(parse_bot(item.strip()))
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None
    if not bots:
        return [DEMO_BOT]
    check_bots(bots)
    return bots


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
        help=f"a bot whose signed requests are accepted: its id, its secret key and the teams "
        f"it is installed in; repeatable. Also from {BOTS_VARIABLE}, bots separated by "
        f"whitespace or ';' (a comma separates the teams of one bot), e.g. "
        f"{BOTS_VARIABLE}='BOT1=SECRET1:TEAM1 BOT2=SECRET2:TEAM1,TEAM2'; both add up. "
        f"Default: the demo bot {demo.BOT_ID} in the demo team {demo.TEAM}, whose secret key "
        f"is the one in the README. Secret keys are never printed",
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
        demo_note = " (the demo bot; its secret key is the one in the README)"
        print(bot.describe() + (demo_note if bot == DEMO_BOT else ""))

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

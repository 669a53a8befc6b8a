"""The options of `python -m fuzzing` for the call events, and the receiver they start.

Against the embedded reference server the receiver listens on a free loopback port and the
server is started with its webhook there. Against a server at `--url`, `--events-listen
HOST:PORT` makes the receiver listen there: the server must already deliver the events of the
team under test to `http://HOST:PORT/events` (its own setting; the reference server's is
`--webhook URL`), signed as the run's bot. Without it, events are not judged.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from contract.signing import Bot
from fuzzing import events
from fuzzing.event_receiver import PATH, Receiver
from fuzzing.target import TargetError

#: Where the receiver listens for the embedded reference server: a free loopback port.
EMBEDDED_WEBHOOK = ("127.0.0.1", 0)


def _address(text: str) -> tuple[str, int]:
    try:
        return events.parse_address(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= 600:
        raise argparse.ArgumentTypeError(f"{value:g} is not between 0 and 600 seconds")
    return value


def add_event_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--events-listen",
        type=_address,
        default=None,
        metavar="HOST:PORT",
        help="receive the server's call events at http://HOST:PORT"
        f"{PATH} and judge them against the answers that caused them. With --url, configure "
        "the server to deliver there first (the reference server: --webhook URL); without "
        "this option, events are not judged against --url. The embedded server delivers to "
        "the run (by default on a free loopback port)",
    )
    parser.add_argument(
        "--events-grace",
        type=_seconds,
        default=events.DEFAULT_GRACE,
        metavar="SECONDS",
        help="at the end of the run, wait at most this long for events still due before "
        "judging them (default: %(default)s)",
    )


@contextmanager
def events_for(
    args: argparse.Namespace, bot: Bot, address: tuple[str, int] | None
) -> Iterator[events.Ledger | None]:
    """The run's receiver at `address` (None: no events judged), active for the block."""
    if address is None:
        yield None
        return
    try:
        receiver = Receiver(bot, address)
    except OSError as error:
        host, port = address
        raise TargetError(f"cannot listen for events on {host}:{port}: {error.strerror}") from None
    with events.listening(receiver, args.team, args.events_grace) as ledger:
        if address is not EMBEDDED_WEBHOOK:
            print(f"fuzz: events judged as they come to {ledger.url}", file=sys.stderr, flush=True)
        yield ledger

"""`python -m fuzzing replay FILE [--url URL]`: re-send a violation's sequence and judge it again.

A replay file (written per violation under the report directory) holds the requests sent on
one thread, in order, and the bot that sent them (never its secret key, never a signature:
a signature expires after five minutes). They are sent again, each one signed now, to the
reference server started for the purpose or to `--url`, and each answer is judged by a fresh
contract model. The bot is `--bot-id`, else the file's, else `$WORKONFLOW_BOT_ID`, else the
demo bot; its secret key `--secret-key`, else `$WORKONFLOW_SECRET_KEY`, else the demo bot's.
Exit status: 0 the sequence kept the contract, 1 a violation was found again, 2 the file or the
target cannot be used.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

from fuzzing import request_signing
from fuzzing.oracle import Judge
from fuzzing.target import DEMO_TEAM, TargetError

EXIT_KEPT, EXIT_VIOLATED, EXIT_UNUSABLE = 0, 1, 2


def load(path: Path) -> dict[str, Any]:
    """The replay document; ValueError names what is wrong with it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    steps = document.get("steps") if isinstance(document, dict) else None
    if not isinstance(steps, list) or not all(
        isinstance(s, dict) and isinstance(s.get("method"), str) and "body" in s for s in steps
    ):
        raise ValueError(f"{path}: no list of steps with method and body")
    return dict(document)


def replay(
    document: dict[str, Any], url: str, bot: request_signing.Bot, out: Any = sys.stdout
) -> list[str]:
    """Send the steps to `url`, each signed now as `bot`; return the violations the model
    found, printing each step."""
    team = str(document.get("team") or DEMO_TEAM)
    judge = Judge(team, bot)
    found: list[str] = []
    with requests.Session() as session:
        session.headers["Content-Type"] = "application/json"
        for number, step in enumerate(document["steps"], 1):
            data = json.dumps(step["body"]).encode()
            sent = time.time()
            answer = session.post(
                f"{url.rstrip('/')}/{team}/{step['method']}",
                data=data,
                headers=bot.headers(data),
                timeout=10,
            )
            received = time.time()
            try:
                content = answer.json()
            except ValueError:
                content = None
            violation = judge.observe(
                step["method"],
                team,
                signed=True,
                content_type="application/json",
                body=step["body"],
                status=answer.status_code,
                answer=content,
                sent=sent,
                received=received,
                phase="replay",
            )
            was = f" (was {step['status']})" if step.get("status") != answer.status_code else ""
            shown_data = content.get("data") if isinstance(content, dict) else None
            shown = f" {json.dumps(shown_data)}" if shown_data is not None else ""
            print(
                f"{number}. {step['method']} {json.dumps(step['body'])} -> "
                f"{answer.status_code}{shown}{was}",
                file=out,
            )
            if violation is not None:
                print(f"   violation: {violation.reason}", file=out)
                found.append(violation.message)
    return found


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fuzzing replay",
        description="Re-send the sequence of a replay file, each request signed now, and judge "
        "every answer with the contract model. Exit status: 0 no violation, 1 a violation, "
        "2 cannot replay.",
    )
    parser.add_argument("file", type=Path, help="a replay file (reports/replay-N.json)")
    parser.add_argument("--url", help="server to send to (default: start the reference server)")
    parser.add_argument(
        "--bot-id",
        default=None,
        help=(
            f"the bot (default: the file's, else ${request_signing.BOT_ID_VARIABLE}, "
            "else the demo bot)"
        ),
    )
    parser.add_argument(
        "--secret-key",
        default=None,
        help=f"its secret key (default: ${request_signing.SECRET_VARIABLE}, else the demo bot's)",
    )
    args = parser.parse_args(list(argv))
    try:
        document = load(args.file)
        recorded = document.get("bot_id")
        bot = request_signing.credentials(
            args.bot_id or (recorded if isinstance(recorded, str) and recorded else None),
            args.secret_key,
        )
        if args.url:
            found = replay(document, args.url, bot)
        else:
            from fuzzing.embedded import ReferenceServer

            with ReferenceServer() as server:
                found = replay(document, server.url, bot)
    except (ValueError, TargetError, requests.RequestException) as error:
        print(f"replay: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    if document.get("check") == "events":
        print("the events the sequence causes are not judged by a replay: fuzz with events on")
    print(f"{len(found)} violation(s)" if found else "the sequence kept the contract")
    return EXIT_VIOLATED if found else EXIT_KEPT

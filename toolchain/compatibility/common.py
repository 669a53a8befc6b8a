"""What the Python drivers share: their arguments and the step record (they sign with
`contract.signing`, or with the client's own signer)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return f"{type(error).__name__}: {text.splitlines()[0]}"


@dataclass
class Run:
    """The driver's arguments, and the steps it recorded."""

    base_url: str
    team: str
    bot_id: str
    secret_key: str
    threads: list[str]
    users: list[str]
    steps: list[dict[str, Any]] = field(default_factory=list)
    #: The body of the last request sent, where the driver's transport sees it.
    last_sent: bytes | None = None

    @classmethod
    def from_argv(cls) -> Run:
        given = json.loads(sys.argv[1])
        return cls(
            given["baseUrl"],
            given["teamId"],
            given["botId"],
            given["secretKey"],
            list(given["threads"]),
            list(given["users"]),
        )

    def record(
        self,
        name: str,
        send: Callable[[], Any],
        judge_error: Callable[[BaseException], tuple[int | None, int | None]],
    ) -> None:
        """Run one step: `send` returns the answer's envelope as a dict; `judge_error` turns
        what the client raised into (HTTP status, envelope code), (None, None) when the client
        refused the request before sending it."""
        step: dict[str, Any] = {"name": name, "status": None, "code": None, "data": None}
        step["error"] = step["sent"] = None
        try:
            envelope = send()
        except Exception as error:
            step["status"], step["code"] = judge_error(error)
            step["error"] = first_line(error)
        else:
            step["status"] = step["code"] = envelope.get("code")
            step["data"] = envelope.get("data")
        if self.last_sent is not None:
            step["sent"] = self.last_sent.decode("utf-8", "replace")
        self.last_sent = None
        self.steps.append(step)

    def record_model(
        self,
        name: str,
        send: Callable[[], Any],
        judge_error: Callable[[BaseException], tuple[int | None, int | None]],
    ) -> None:
        """`record` for a client whose answers are models with `to_dict()`."""
        self.record(name, lambda: send().to_dict(), judge_error)

    def report(self) -> None:
        print(json.dumps({"steps": self.steps}))

"""The server under test: the reference server started for a run, and a first contact check."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

DEMO_TEAM = "333ccc134c0319001573485e"
DEMO_TOKEN = "dev-token"
#: A thread id nothing else uses: the first contact asks to stop a stream that never started.
PROBE_THREAD = "0000000000000000000000f5"

_LISTENING = re.compile(r"reference server on (http://\S+)")


class TargetError(Exception):
    """The target cannot be used; the message is one line for a person to read."""


class ReferenceServer:
    """`python -m reference_server --memory` on a free loopback port, for one run.

    The state is thrown away when the process ends. Leaving the `with` block stops it (SIGTERM,
    then SIGKILL after `timeout` seconds).
    """

    def __init__(self, timeout: float = 20.0) -> None:
        self.timeout = timeout
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in __exit__)
            prefix="fuzz-reference-server-", suffix=".log"
        )

    def output(self) -> str:
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")

    def __enter__(self) -> Self:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH")])
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reference_server",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--memory",
                "--quiet",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + self.timeout
        while True:
            match = _LISTENING.search(self.output())
            if match:
                self.url = match.group(1)
                return self
            if self.process.poll() is not None:
                last = self.output().strip().splitlines()[-1:] or ["no output"]
                self.stop()
                raise TargetError(f"the reference server exited at start: {last[0]}")
            if time.monotonic() > deadline:
                self.stop()
                raise TargetError(f"the reference server did not start in {self.timeout:.0f} s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(self.timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(self.timeout)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        self.log.close()


def first_contact(url: str, team: str, token: str, timeout: float = 10.0) -> int:
    """Send one harmless authenticated request; return its status or raise `TargetError`.

    The request stops a stream in a thread that has none: a server that keeps the contract
    answers 409 and changes nothing. No answer at all, or a refused token (401, 403), means a
    run would test nothing, so both raise with a message that names the cause.
    """
    request = urllib.request.Request(
        f"{url.rstrip('/')}/{team}/call.stream/stop",
        data=json.dumps({"threadId": PROBE_THREAD}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except urllib.error.URLError as error:
        raise TargetError(f"cannot reach {url}: {error.reason}") from None
    except (OSError, ValueError) as error:
        raise TargetError(f"cannot reach {url}: {error}") from None
    if status == 401:
        raise TargetError(f"{url} refused the token (401): pass the right one with --token")
    if status == 403:
        raise TargetError(
            f"{url} refused the token for team {team} (403): check --team and --token"
        )
    return status

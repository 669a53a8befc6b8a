"""The reference server a run starts when it is given no `--url`: a child process.

Its own module, so that a run against a server of the user's never imports the reference
server (about a third of the command's start-up).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from fuzzing.target import TargetError
from reference_server.testing import ServerExited, ServerProcess, ServerStartTimeout


class ReferenceServer(ServerProcess):
    """`python -m reference_server --memory --quiet` on a free loopback port, for one run.

    The state is thrown away when the process ends. Leaving the `with` block stops it (SIGTERM,
    then SIGKILL after `timeout` seconds). A server that does not start raises `TargetError`.
    It delivers the call events to each of `webhooks`.
    """

    def __init__(self, timeout: float = 20.0, webhooks: Sequence[str] = ()) -> None:
        hooks = [arg for url in webhooks for arg in ("--webhook", url)]
        super().__init__(["--memory", "--quiet", *hooks], timeout=timeout)

    @property
    def url(self) -> str:
        return self.base_url

    def start(self) -> Self:
        try:
            return super().start()
        except ServerExited:
            last = self.output().strip().splitlines()[-1:] or ["no output"]
            raise TargetError(f"the reference server exited at start: {last[0]}") from None
        except ServerStartTimeout:
            raise TargetError(
                f"the reference server did not start in {self.timeout:.0f} s"
            ) from None

"""Run the reference server for tests: in a background thread, or as a separate process.

    with serve_in_thread(create_app()) as base_url:
        ...  # http://127.0.0.1:<free port>

    with ServerProcess(["--memory"]) as server:
        ...  # server.base_url; server.kill() sends SIGKILL

Both listen on 127.0.0.1 on a free port and stop by themselves when the block ends.
`ServerProcess` is the one launcher of server processes: the reference server, the faulty
servers of `testkit.faulty` (`module=`), and other programs such as Prism (`command=`).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

#: The line a server prints once it listens: `... on http://HOST:PORT`.
_LISTENING = re.compile(r" on (http://\S+)")


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command's name (Linux), from the state on: None
    for a process that is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def running(pid: int) -> bool:
    """Whether the process exists and has not ended (a zombie has)."""
    fields = proc_stat(pid)
    return fields is not None and fields[0] != "Z"


def child_pids(pid: int) -> list[int]:
    """The running processes `pid` started (a server's relay: `reference_server.relay`), from
    /proc (Linux)."""
    found = []
    for path in Path("/proc").glob("[0-9]*/stat"):
        child = int(path.parent.name)
        fields = proc_stat(child)
        if fields is not None and int(fields[1]) == pid and fields[0] != "Z":
            found.append(child)
    return found


class ServerExited(RuntimeError):
    """The server process ended before it listened."""


class ServerStartTimeout(RuntimeError):
    """The server process did not listen within the timeout (it has been stopped)."""


@contextmanager
def serve_in_thread(
    app: Any, *, timeout: float = 10.0, limits: Any = None, http: str | None = None
) -> Iterator[str]:
    """Serve the ASGI app with uvicorn in a daemon thread; yield its base URL.

    `limits` (`reference_server.limits.Limits`, default: its defaults) bound what clients
    may make the server hold, as `python -m reference_server` does; `http` names another of
    uvicorn's HTTP protocols instead of the server's own (which enforces those limits).
    """
    import uvicorn

    from .limits import Limits
    from .protocol import protocol_class
    from .serving import Server

    limits = Limits() if limits is None else limits

    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        http=http or protocol_class(limits),
        ws="none",
        timeout_keep_alive=limits.keep_alive,
        loop="asyncio",
        lifespan="off",
        log_level="warning",
        access_log=False,
    )
    server = Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="reference-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the reference server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()


#: `python -c` with this runs a module (`sys.argv[2]`) with a soft limit of open files
#: (`sys.argv[1]`): set in the child itself, since a `preexec_fn` is unsafe beside threads.
_WITH_OPEN_FILES = """
import resource, runpy, sys
soft, module = int(sys.argv.pop(1)), sys.argv.pop(1)
resource.setrlimit(resource.RLIMIT_NOFILE, (soft, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


class ServerProcess:
    """`python -m MODULE --host 127.0.0.1 --port 0 ARGS` as a child process (MODULE: by
    default `reference_server`; any server that prints `... on http://HOST:PORT` once it
    listens, such as `testkit.faulty NAME`). `command` runs another program instead of
    `python -m MODULE`, with the same options and the same wait for that line (Prism:
    `command=["prism", "mock"]` prints `Prism is listening on http://...`). `open_files`
    starts it with that soft limit of open files (`ulimit -n`).

    Its output goes to a temporary file (`output()`), so that a chatty server never blocks
    on a full pipe. Leaving the `with` block terminates it (SIGTERM, then SIGKILL).
    """

    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        module: str = "reference_server",
        command: Sequence[str] | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 20.0,
        open_files: int | None = None,
    ) -> None:
        self.module = module
        self.command = list(command) if command else [sys.executable, "-m", module]
        if open_files is not None:
            if command:
                raise ValueError("open_files applies to a Python module, not to a command")
            self.command = [sys.executable, "-c", _WITH_OPEN_FILES, str(open_files), module]
        #: What the error messages call the server.
        self.name = Path(command[0]).name if command else module
        self.args = list(args)
        self.env = env
        self.timeout = timeout
        self.base_url = ""
        self.process: subprocess.Popen[bytes] | None = None
        # Closed in __exit__: the file outlives this method on purpose.
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="reference-server-", suffix=".log"
        )

    def start(self) -> Self:
        environment = dict(os.environ if self.env is None else self.env)
        source = str(Path(__file__).resolve().parent.parent)
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [source, environment.get("PYTHONPATH")])
        )
        self.process = subprocess.Popen(
            [*self.command, "--host", "127.0.0.1", "--port", "0", *self.args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=environment,
        )
        deadline = time.monotonic() + self.timeout
        while True:
            match = _LISTENING.search(self.output())
            if match:
                self.base_url = match.group(1)
                if self._accepts():
                    return self
            if self.process.poll() is not None:
                raise ServerExited(f"{self.name} exited:\n{self.output()}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartTimeout(f"{self.name} did not start:\n{self.output()}")
            time.sleep(0.02)

    def _accepts(self) -> bool:
        host, port = self.base_url.removeprefix("http://").rsplit(":", 1)
        try:
            with socket.create_connection((host, int(port)), timeout=0.5):
                return True
        except OSError:
            return False

    def output(self) -> str:
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(self.timeout)

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Ask the server to stop; SIGKILL it if it does not within the timeout."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(self.timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(self.timeout)
        return self.process.returncode

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._log.close()

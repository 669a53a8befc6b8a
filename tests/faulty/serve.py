"""Serve one faulty variant: `python tests/faulty/serve.py NAME [--lifetime SECONDS]`.

Listens on 127.0.0.1 on a free port, prints `faulty server NAME on http://127.0.0.1:PORT`,
and stops on SIGTERM or SIGINT, or by itself after `--lifetime` seconds.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from variants import VARIANTS


def main() -> int:
    parser = argparse.ArgumentParser(prog="serve.py")
    parser.add_argument("name", choices=sorted(VARIANTS))
    parser.add_argument("--lifetime", type=float, default=600.0)
    args = parser.parse_args()

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    config = uvicorn.Config(
        VARIANTS[args.name].factory(),
        http="httptools",
        loop="uvloop",
        lifespan="off",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    timer = threading.Timer(args.lifetime, setattr, (server, "should_exit", True))
    timer.daemon = True
    timer.start()
    print(f"faulty server {args.name} on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Serve one faulty variant: `python -m testkit.faulty NAME [--host H] [--port P] [--lifetime S]`.

Listens on 127.0.0.1 (a free port by default), prints `faulty server NAME on http://HOST:PORT`,
and stops on SIGTERM or SIGINT, or by itself after `--lifetime` seconds.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading

from testkit.faulty.variants import VARIANTS


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m testkit.faulty")
    parser.add_argument("name", choices=sorted(VARIANTS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=600.0)
    args = parser.parse_args()

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
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
    host, port = sock.getsockname()[:2]
    print(f"faulty server {args.name} on http://{host}:{port}", flush=True)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())

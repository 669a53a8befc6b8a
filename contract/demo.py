"""The sandbox's demo team and credentials, and sample ids: one place for every tool and test.

The reference server accepts the demo bot by default, `nox -s fuzz` uses them by
default, and the tests and benchmarks draw their thread and user ids from here.
"""

from __future__ import annotations

#: The demo team of the sandbox (the example `teamId` of openapi.yaml).
TEAM = "333ccc134c0319001573485e"
#: The demo bot, installed in `TEAM` only, and its secret key (a sandbox secret, not a real one).
BOT_ID = "5c0e5996e43fb4001acfb07d"
SECRET_KEY = "dev-secret"
#: A valid team id that is not the demo team's.
OTHER_TEAM = "333ccc134c0319001573485f"

#: Thread ids (the first is the spec's example).
THREADS = (
    "5b0525134c0319001573485e",
    "5b0525134c0319001573485f",
    "65f1c0ffee0000000000a001",
)
#: User ids (the first two are the spec's examples).
USERS = (
    "5b4458eb1b2b33001bf213bf",
    "5b4458eb1b2b33001bf213bc",
    "65f1c0ffee0000000000b002",
)


def thread(number: int) -> str:
    """A distinct, valid thread id for each `number` >= 0 (for tests that need many threads)."""
    return format(0x7E0000000000000000000000 + number, "024x")


def user(number: int) -> str:
    """A distinct, valid user id for each `number` >= 0."""
    return format(0x7F0000000000000000000000 + number, "024x")

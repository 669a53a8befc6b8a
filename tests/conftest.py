"""Fixtures shared by the test suite: the spec, and validators for its schemas."""

from __future__ import annotations

import os
from typing import Any

import pytest

from testkit.spec import SpecSchemas, load_spec

#: Skips that stay skips in CI: what no package registry of the CI machine can provide.
CI_MAY_SKIP: tuple[str, ...] = ()
#: Modules whose tests read one expensive module-scoped fixture (a publish, a generation, the
#: shared fuzz runs): a parallel run keeps each on one worker, so that the fixture runs once.
WHOLE_MODULES = frozenset(
    f"tests/{name}.py"
    for name in (
        "test_publish",
        "test_fuzz",
        "test_fuzz_events",
        "test_fuzz_real",
        "test_generate",
        "test_golden",
    )
)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadscope` (what `nox -s tests` asks for) with scopes of our own: a module of
    WHOLE_MODULES is one unit of work, every other test is a unit by itself.

    Units are handed out biggest first, then in the order of collection, to whichever worker
    is free. (pytest-xdist's `loadgroup` would say the same with marks, but its grouping does
    not work with pytest 9.2, whose node ids it can no longer rewrite.)
    """
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WholeModules(LoadScopeScheduling):  # type: ignore[misc]  # xdist has no types
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in WHOLE_MODULES else nodeid

    return WholeModules(config, log)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """In CI (`CI` set), a skipped test fails: a missing tool must not pass for a green run.

    Outside CI the tests skip what the machine lacks (Chromium, Node, a generator), so that
    `pytest` runs anywhere; `.ci/run` installs everything and holds every test to account.
    """
    report = yield
    if report.skipped and os.environ.get("CI") and not hasattr(report, "wasxfail"):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        if not reason.removeprefix("Skipped: ").startswith(CI_MAY_SKIP):
            report.outcome = "failed"
            report.longrepr = f"skipped in CI, which must run it: {reason}"
    return report


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    return load_spec()


@pytest.fixture(scope="session")
def schemas(spec: dict[str, Any]) -> SpecSchemas:
    return SpecSchemas(spec)

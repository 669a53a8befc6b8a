"""Sessions of the Workonflow Call API toolchain.

Data flows one way, from `openapi.yaml` outward: `lint` checks the spec, `generate` and `check`
derive `generated/`, `publish` writes `dist/`, `fuzz` holds a server to the spec, and `tests`
runs the test suite. Python tool versions are pinned in `pyproject.toml` (`[dependency-groups]`,
nox itself in its `nox` group), Node tools in `npm/package.json` and its lock file.

What needs Node.js (Redocly, Spectral, Optic, the TypeScript generators) says so and is skipped
on a machine without it, so that `nox` alone runs anywhere; in CI (`CI` set) it fails instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import nox

# nox reads this line before it runs the file, so it must be a literal: keep it at the `nox`
# group's pin in pyproject.toml (tests/test_constraints.py checks that they agree).
nox.needs_version = ">=2026.10.20"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_external_run = True
nox.options.sessions = ["lint", "tests"]

ROOT = Path(__file__).resolve().parent
#: The spec's path, declared here as well as in `contract.spec.SPEC_PATH`: nox runs this file
#: in its own environment, without the project's dependencies (PyYAML), so it cannot import it.
SPEC = ROOT / "openapi.yaml"
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
NPM_DIR = ROOT / "npm"
NPM_BIN = NPM_DIR / "node_modules" / ".bin"
CONSTRAINTS = ROOT / "constraints.txt"
# Where `nox -s serve` keeps its SQLite database unless told otherwise (git-ignored).
STATE = ROOT / ".state"
# Every group the test suite imports; the lint session type-checks the same code, so it
# installs the same, plus the stubs of the lint group.
CODE_GROUPS = ("lint", "generate", "server", "fuzz", "publish", "compat", "test")
IN_CI = bool(os.environ.get("CI"))

# This machine sets PYTHONDONTWRITEBYTECODE=1; without compiled bytecode in the venvs every
# tool start recompiles, which makes warm reruns about twice as slow.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")
# Build backends (this project's, the generated projects') come at their locked versions too.
os.environ.setdefault("UV_BUILD_CONSTRAINT", str(CONSTRAINTS))
# Redocly CLI would otherwise try to phone home and print update notices.
os.environ.setdefault("REDOCLY_TELEMETRY", "off")
os.environ.setdefault("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")


def install_groups(session: nox.Session, *groups: str) -> None:
    """Install the pinned dependency groups of pyproject.toml, their dependencies locked too."""
    session.install("-c", str(CONSTRAINTS), *nox.project.dependency_groups(PYPROJECT, *groups))


def lock_inputs() -> list[str]:
    """Everything the sessions install or build with: the groups (nox's own among them), the
    generated projects' dependencies and build backends."""
    requirements = set(PYPROJECT["build-system"]["requires"])
    for group in PYPROJECT["dependency-groups"]:
        requirements.update(nox.project.dependency_groups(PYPROJECT, group))
    for package in ("client", "models"):
        project = nox.project.load_toml(ROOT / "generated" / package / "pyproject.toml")
        requirements.update(project["project"]["dependencies"])
        requirements.update(project["build-system"]["requires"])
    return sorted(requirements)


@nox.session(default=False, venv_backend="none")
def lock(session: nox.Session) -> None:
    """Rewrite constraints.txt: every package the sessions install, at one exact version.

    Run it after changing a pin in pyproject.toml or a dependency of generated/; the sessions
    install with `-c constraints.txt` (and build with it), so the same versions come every time.
    """
    if shutil.which("uv") is None:
        session.error("This session needs uv on PATH: pip install -c constraints.txt 'nox[uv]'.")
    inputs = ROOT / ".nox" / "lock.in"
    inputs.parent.mkdir(exist_ok=True)
    inputs.write_text("\n".join(lock_inputs()) + "\n", encoding="utf-8")
    session.run(
        "uv",
        "pip",
        "compile",
        str(inputs),
        "--python-version",
        "3.11",
        "--no-header",
        "--no-annotate",
        "--quiet",
        "--output-file",
        str(CONSTRAINTS),
        external=True,
        env={"UV_BUILD_CONSTRAINT": None},  # the file being rewritten may not exist yet
    )


def npm_tools(session: nox.Session) -> Path | None:
    """Install the pinned Node tools into npm/ (once per lock file) and return their bin folder.

    Without Node.js: None and a warning naming what will not run, or an error in CI.
    """
    if shutil.which("node") is None or shutil.which("npm") is None:
        message = "Node.js 20 or newer with npm is not installed"
        if IN_CI:
            session.error(f"{message}: CI must run the Node tools.")
        session.warn(f"{message}: the steps that need it are skipped (CI runs them).")
        return None
    lock = NPM_DIR / "package-lock.json"
    stamp = NPM_DIR / "node_modules" / ".installed-lock"
    if not stamp.exists() or stamp.read_bytes() != lock.read_bytes():
        session.run("npm", "ci", "--no-audit", "--no-fund", "--prefix", str(NPM_DIR), external=True)
        stamp.write_bytes(lock.read_bytes())
    return NPM_BIN


@nox.session
def lint(session: nox.Session) -> None:
    """Lint the spec, then the project's own code: `nox -s lint [-- SPEC]`.

    The spec: openapi-spec-validator, Redocly and Spectral (`python -m toolchain.lint`), each
    problem once as `openapi.yaml:LINE:COL: tool rule: message`. The code: `ruff check`,
    `ruff format --check`, strict mypy, and import-linter's contracts (the README's layers, no
    import cycle in `contract` or `fuzzing`; all in pyproject.toml), in an environment with the
    project and generated/ installed so that mypy sees their real types. Every step runs; the
    session fails at the end when any of them found a problem.
    """
    spec = session.posargs[0] if session.posargs else str(SPEC)
    # nox too: mypy checks this file against its types.
    install_project(session, *CODE_GROUPS, "nox")
    npm_tools(session)
    steps = {
        "spec": ["python", "-m", "toolchain.lint", spec],
        "ruff check": ["ruff", "check", "."],
        "ruff format": ["ruff", "format", "--check", "."],
        "mypy": ["mypy"],
        "import layers": ["lint-imports", "--no-cache"],
    }
    failed = []
    for name, command in steps.items():
        try:
            session.run(*command)
        except nox.command.CommandFailed:
            failed.append(name)
    if failed:
        session.error(f"lint found problems: {', '.join(failed)}")


@nox.session(default=False)
def generate(session: nox.Session) -> None:
    """Regenerate generated/ (typed client and pydantic models) from openapi.yaml.

    Writes into a temporary folder and replaces generated/ only when every step succeeded;
    on failure generated/ is left untouched and the failing step is named. `nox -R -s generate`
    skips the installs for a fast rerun.
    """
    install_groups(session, "generate")
    session.run("python", "-m", "toolchain.generate", *session.posargs)


@nox.session(default=False)
def check(session: nox.Session) -> None:
    """Fail, listing the stale files and their diff, when generated/ is not what the spec gives."""
    install_groups(session, "generate")
    session.run("python", "-m", "toolchain.generate", "--check", *session.posargs)


def install_project(session: nox.Session, *groups: str) -> None:
    """Install the groups, this project and the generated packages (when generated)."""
    install_groups(session, *groups)
    generated = [
        arg
        for package in ("client", "models")
        if (ROOT / "generated" / package / "pyproject.toml").exists()
        for arg in ("-e", f"generated/{package}")
    ]
    session.install("-e", ".", *generated)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (pytest) on every core; arguments after `--` go to pytest (`-n 0`
    runs it in one process).

    pytest-xdist spreads the tests over one worker per core; the modules whose tests read one
    expensive fixture (a publish, a generation, shared fuzz runs) stay whole on one worker and
    start first (tests/conftest.py sets the scopes of `--dist loadscope`).
    """
    install_project(session, *CODE_GROUPS)
    npm_tools(session)
    session.run("pytest", "-n", "auto", "--dist", "loadscope", *session.posargs)


@nox.session(default=False)
def serve(session: nox.Session) -> None:
    """Run the reference server: `nox -s serve -- [--host H] [--port P] [--database F | --memory]`.

    Arguments after `--` go to `python -m reference_server` (see its `--help`); bots come
    from `--bot BOT_ID=SECRET:TEAM[,TEAM]` or WORKONFLOW_BOTS (the demo bot by default); the
    call events go to each `--webhook URL` or WORKONFLOW_WEBHOOK. The state is kept in
    `.state/reference.db` (git-ignored) unless `--database` or `--memory` says otherwise.
    Stop it with Ctrl-C or SIGTERM.
    """
    install_project(session, "server")
    arguments = list(session.posargs)
    if not any(a in ("--memory", "--database") or a.startswith("--database=") for a in arguments):
        STATE.mkdir(exist_ok=True)
        arguments = ["--database", str(STATE / "reference.db"), *arguments]
    session.run("python", "-m", "reference_server", *arguments)


@nox.session(default=False)
def fuzz(session: nox.Session) -> None:
    """Fuzz a server against openapi.yaml: `nox -s fuzz -- [--url URL --team ID --bot-id B]`.

    Every request is signed as the bot: `--bot-id`/`--secret-key`, or WORKONFLOW_BOT_ID /
    WORKONFLOW_SECRET_KEY (keeps the key off the command line), else the demo bot.
    Without `--url` it starts the reference server (free loopback port, throwaway state),
    fuzzes it and stops it. `--budget SECONDS` (default 10) and `--seed N` (printed by every
    run) are passed on; see `python -m fuzzing --help`. The call events are judged too: the
    started server delivers them to the run; a server at `--url` must be set to deliver them
    to `--events-listen HOST:PORT` (without it they are not judged). Against a real
    deployment: `--fixtures FILE` (its threads and users), `--rate-limit N`, `--exclude
    OPERATION`; the calls the run started are ended when it stops (budget, Ctrl-C, SIGTERM).
    Exits 0 only when no violation was found; writes reports/fuzz-junit.xml and
    reports/fuzz-result.json.
    """
    install_project(session, "server", "fuzz")
    session.run("python", "-m", "fuzzing", *session.posargs)


@nox.session(default=False)
def publish(session: nox.Session) -> None:
    """Write dist/: bundled spec (YAML, JSON), reference docs, TypeScript types and clients.

    `dist/` is replaced only when every step worked; `dist/manifest.json` lists each file with
    its sha256 and the spec version. Needs Node.js (Redocly, openapi-typescript) and Java
    (openapi-generator). Pass `--out DIR` after `--` to write elsewhere.
    """
    if shutil.which("java") is None:
        session.error(
            "This session needs Java 11 or newer for openapi-generator "
            "(Debian: apt-get install -y openjdk-17-jre-headless): install it, then run again."
        )
    # toolchain/ runs from the work tree (`python -m` from the project root): no install needed.
    install_groups(session, "publish")
    if npm_tools(session) is None:
        session.skip("publishing needs Node.js (Redocly, openapi-typescript)")
    session.run("python", "-m", "toolchain.publish", *session.posargs)


@nox.session(default=False)
def compat(session: nox.Session) -> None:
    """Publish dist/, then run the compatibility matrix: `nox -s compat [-- --only NAME ...]`.

    For each client a user might pick (this project's Python client, openapi-generator's
    `python` and `typescript-fetch` clients generated from dist/ with default settings, the
    published TypeScript client, openapi-typescript's types with openapi-fetch, the Go client):
    generate it, compile or type-check it, and drive the reference server (127.0.0.1, throwaway
    state) through a whole call and its error cases in the client's own language. Prints the
    matrix and writes dist/compatibility.md and dist/compatibility.json; fails when a cell
    fails for a cause not listed as known (`toolchain/compatibility/known.json`).
    """
    if shutil.which("java") is None:
        session.error("This session needs Java 11 or newer for openapi-generator.")
    install_project(session, "publish", "server", "compat")
    if npm_tools(session) is None:
        session.skip("the matrix needs Node.js (TypeScript clients, openapi-generator's inputs)")
    session.run("python", "-m", "toolchain.publish")
    session.run("python", "-m", "toolchain.compat", *session.posargs)


@nox.session(default=False)
def breaking(session: nox.Session) -> None:
    """Fail on a breaking change without a major version bump: `nox -s breaking -- [--base REF]`.

    Compares openapi.yaml with its version at GIT_REF (default: the last release tag `v*`,
    else the last commit of the version before the spec's, else HEAD~1; `--base-version X.Y.Z`
    finds the last commit of a version without tags) using
    Optic offline, prints every change as BREAKING or compatible with its operation and field,
    and requires a new major `info.version` for a breaking change, and a CHANGELOG.md section
    for a new version.
    """
    parser = argparse.ArgumentParser(prog="nox -s breaking --", add_help=False)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--base", metavar="GIT_REF")
    source.add_argument("--base-version", metavar="VERSION")
    try:
        args, unknown = parser.parse_known_args(session.posargs)
    except SystemExit:
        unknown = ["?"]
    given = [value for value in (args.base, args.base_version) if value is not None]
    if unknown or any(not value.strip() for value in given):
        session.error(f"{parser.format_usage().strip()}; got {' '.join(session.posargs)!r}")
    # toolchain/ runs from the work tree (`python -m` from the project root): no install needed.
    install_groups(session, "publish")
    if npm_tools(session) is None:
        session.skip("the breaking-change gate needs Node.js (Optic)")
    base = ["--base", args.base] if args.base else []
    if args.base_version:
        base = ["--base-version", args.base_version]
    session.run(
        "python", "-m", "toolchain.breaking", *base, "--changelog", str(ROOT / "CHANGELOG.md")
    )


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Run the benchmarks of bench/ and print their figures: `nox -s bench -- [PART ...]`.

    Each part is a script `bench/PART.py`; with no part given, all of them run in turn.
    """
    parts = session.posargs or sorted(p.stem for p in (ROOT / "bench").glob("[!_]*.py"))
    unknown = [p for p in parts if not (ROOT / "bench" / f"{p}.py").exists()]
    if unknown:
        session.error(f"usage: nox -s bench -- [PART ...]; no such part: {', '.join(unknown)}")
    install_project(session, "generate", "server", "fuzz", "bench", "test")
    npm_tools(session)
    for part in parts:
        session.run("python", f"bench/{part}.py")

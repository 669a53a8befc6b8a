"""The rows of the compatibility matrix: how each client is generated, compiled and driven.

Each function fills the `generated` and `compiled` cells of its row and returns the steps its
driver (`toolchain/compatibility/`) printed, run against a fresh reference server; a step that
cannot be done raises StepFailed, whose message is the cause shown in the cell.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract import demo
from reference_server.testing import ServerProcess
from toolchain.compat_judging import DRIVERS, Cell, Row, first_line
from toolchain.publish import GENERATORS_JSON, ROOT, generator_cli

NPM_MODULES = ROOT / "npm" / "node_modules"
TSC = NPM_MODULES / ".bin" / "tsc"
TS_OPTIONS = {
    "strict": True,
    "target": "es2020",
    "module": "commonjs",
    "moduleResolution": "node",
    "lib": ["es2020", "dom"],
    "types": [],
    "rootDir": ".",
    "outDir": "out",
}
#: Where Debian's golang-*-dev packages put their Go sources (a GOPATH entry).
DEBIAN_GOCODE = Path("/usr/share/gocode")
#: The Debian packages the Go row needs: the toolchain and the client's one library.
GO_PACKAGES = "golang-go golang-gopkg-validator.v2-dev"


class StepFailed(Exception):
    """A column could not be filled: the message is the cause, its first line shown."""


def run_step(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: int = 300,
) -> str:
    """Run a command; its stdout, or StepFailed with the first line of what it said."""
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise StepFailed(f"{argv[0]} not found") from exc
    except subprocess.TimeoutExpired as exc:
        raise StepFailed(f"{Path(argv[0]).name}: no answer within {timeout} s") from exc
    if done.returncode != 0:
        raise StepFailed(first_line(error_lines(done.stdout + "\n" + done.stderr)))
    return done.stdout


def error_lines(output: str) -> str:
    """The line of a tool's output that names its error: a Python traceback's last line, the
    first line that says error or exception, and for openapi-generator's spec validation the
    exception with the first problem it lists."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if any(line.startswith("Traceback") for line in lines):
        return lines[-1]
    keys = ("error", "exception")
    error = next((line for line in lines if any(k in line.lower() for k in keys)), None)
    problem = next((line for line in lines if line.startswith("-attribute")), None)
    if error and problem:
        name = re.search(r"\w+Exception", error)
        count = re.search(r"Error count: (\d+)", output)
        total = f" ({count.group(1)} errors)" if count else ""
        return f"{name.group(0) if name else 'error'}{total}: {problem.lstrip('-')}"
    return error or output


@dataclass
class Context:
    dist: Path
    work: Path
    server_module: str = "reference_server"
    server_args: Sequence[str] = ("--memory",)

    def drive(self, argv: Sequence[str], env: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Run a driver against a fresh server; the steps it printed."""
        with ServerProcess(self.server_args, module=self.server_module) as server:
            given = {
                "baseUrl": server.base_url,
                "teamId": demo.TEAM,
                "botId": demo.BOT_ID,
                "secretKey": demo.SECRET_KEY,
                "threads": list(demo.THREADS),
                "users": list(demo.USERS),
            }
            out = run_step([*argv, json.dumps(given)], cwd=ROOT, env=env, timeout=120)
        try:
            return list(json.loads(out)["steps"])
        except (ValueError, KeyError) as exc:
            raise StepFailed(f"the driver printed no steps: {first_line(out)}") from exc


def _python_env(*paths: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [*(str(p) for p in paths), str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    return env


def _generate(ctx: Context, generator: str, out: Path) -> str:
    spec = ctx.dist / GENERATORS_JSON
    if not spec.exists():
        raise StepFailed(f"{spec.name} is not in {ctx.dist}: run nox -s publish")
    run_step([str(generator_cli()), "generate", "-g", generator, "-i", str(spec), "-o", str(out)])
    return "ok (default settings)"


def _typescript(ctx: Context, name: str, driver: str, sources: dict[str, Path]) -> Path:
    """A project of the driver and its sources, type-checked and compiled by tsc --strict."""
    project = ctx.work / name
    project.mkdir(parents=True)
    shutil.copy(DRIVERS / driver, project / "driver.ts")
    shutil.copy(DRIVERS / "steps.ts", project / "steps.ts")
    for target, source in sources.items():
        if source.is_dir():
            shutil.copytree(source, project / target)
        else:
            shutil.copy(source, project / target)
    (project / "node_modules").symlink_to(NPM_MODULES, target_is_directory=True)
    (project / "tsconfig.json").write_text(
        json.dumps({"compilerOptions": TS_OPTIONS, "files": ["driver.ts"]}), encoding="utf-8"
    )
    run_step([str(TSC), "-p", str(project)])
    return project


def _node(project: Path) -> list[str]:
    node = shutil.which("node")
    if node is None:
        raise StepFailed("node not found")
    return [node, str(project / "out" / "driver.js")]


Client = Callable[[Context, Row], list[dict[str, Any]] | None]


def python_client(ctx: Context, row: Row) -> list[dict[str, Any]] | None:
    if not (ROOT / "generated" / "client" / "pyproject.toml").exists():
        raise StepFailed("generated/client is missing: run nox -s generate")
    row.cells["generated"] = Cell(True, "ok (generated/, nox -s check)")
    run_step([sys.executable, "-c", "import workonflow_call"], env=_python_env())
    row.cells["compiled"] = Cell(True, "ok (import)")
    return ctx.drive([sys.executable, "-m", "toolchain.compatibility.python_client"])


def python_generator(ctx: Context, row: Row) -> list[dict[str, Any]] | None:
    out = ctx.work / "python"
    row.cells["generated"] = Cell(True, _generate(ctx, "python", out))
    env = _python_env(out)
    run_step([sys.executable, "-c", "import openapi_client"], env=env)
    row.cells["compiled"] = Cell(True, "ok (import)")
    return ctx.drive([sys.executable, "-m", "toolchain.compatibility.python_generator"], env)


def typescript_fetch(ctx: Context, row: Row) -> list[dict[str, Any]] | None:
    out = ctx.work / "typescript-fetch"
    row.cells["generated"] = Cell(True, _generate(ctx, "typescript-fetch", out))
    # Default settings put the sources at the top (`src/` comes with npmName or supportsES6).
    source = out / "src" if (out / "src").is_dir() else out
    project = _typescript(ctx, "ts-fetch-driver", "typescript_fetch.ts", {"client": source})
    row.cells["compiled"] = Cell(True, "ok (tsc --strict)")
    return ctx.drive(_node(project))


def published_typescript(ctx: Context, row: Row) -> list[dict[str, Any]] | None:
    source = ctx.dist / "clients" / "typescript" / "src"
    if not source.is_dir():
        raise StepFailed(f"{source} is missing: run nox -s publish")
    row.cells["generated"] = Cell(True, "ok (dist/)")
    project = _typescript(ctx, "published-driver", "typescript_fetch.ts", {"client": source})
    row.cells["compiled"] = Cell(True, "ok (tsc --strict)")
    return ctx.drive(_node(project))


def openapi_fetch(ctx: Context, row: Row) -> list[dict[str, Any]] | None:
    schema = ctx.dist / "types" / "schema.d.ts"
    if not schema.exists():
        raise StepFailed(f"{schema} is missing: run nox -s publish")
    row.cells["generated"] = Cell(True, "ok (dist/types, --default-non-nullable false)")
    project = _typescript(ctx, "openapi-fetch-driver", "openapi_fetch.ts", {"schema.d.ts": schema})
    row.cells["compiled"] = Cell(True, "ok (tsc --strict)")
    return ctx.drive(_node(project))


def go_module(source: Path) -> str:
    """The module path the Go client's go.mod declares."""
    for line in (source / "go.mod").read_text(encoding="utf-8").splitlines():
        if line.startswith("module "):
            return line.split(maxsplit=1)[1].strip()
    raise StepFailed(f"{source / 'go.mod'} declares no module")


def go_build(work: Path, source: Path, driver: Path) -> Path:
    """Build `driver` (a main package) against the Go client at `source`; the binary.

    No module proxy is reachable: GOPATH mode, the client under its module path beside the
    driver, its libraries from Debian's golang-*-dev packages (DEBIAN_GOCODE).
    """
    if shutil.which("go") is None:
        raise StepFailed(f"go not found (Debian: apt-get install {GO_PACKAGES})")
    gopath = work / "gopath"
    shutil.copytree(source, gopath / "src" / go_module(source))
    main = gopath / "src" / "compatibility-driver"
    main.mkdir(parents=True)
    shutil.copy(driver, main / "main.go")
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": os.pathsep.join([str(gopath), str(DEBIAN_GOCODE)]),
        "GOCACHE": str(work / "gocache"),
        "GOPROXY": "off",
        "GOFLAGS": "",
    }
    binary = work / "go-driver"
    run_step(["go", "build", "-o", str(binary), "."], cwd=main, env=env, timeout=600)
    return binary


def go(ctx: Context, row: Row) -> list[dict[str, Any]] | None:
    source = ctx.dist / "clients" / "go"
    if not (source / "go.mod").exists():
        raise StepFailed(f"{source} is missing: run nox -s publish")
    row.cells["generated"] = Cell(True, "ok (dist/)")
    binary = go_build(ctx.work, source, DRIVERS / "go_client.go")
    row.cells["compiled"] = Cell(True, "ok (go build, Debian's Go)")
    return ctx.drive([str(binary)])


#: The rows of the matrix, in order: name -> how to fill its cells.
CLIENTS: dict[str, Client] = {
    "Python client (generated/client, CallApi)": python_client,
    "openapi-generator python": python_generator,
    "openapi-generator typescript-fetch": typescript_fetch,
    "published TypeScript client (typescript-fetch + botSignature)": published_typescript,
    "openapi-typescript types + openapi-fetch": openapi_fetch,
    "Go client (openapi-generator go)": go,
}

"""Regenerate `generated/` from `openapi.yaml`: the typed client and the pydantic models.

    python -m toolchain.generate              # regenerate generated/ (atomically)
    python -m toolchain.generate --check      # exit 1 and list stale files when generated/ differs
    python -m toolchain.generate --into DIR   # write a fresh tree into DIR (which must not exist)
    python -m toolchain.generate --no-overrides --into DIR   # the generators' default templates

Everything is written into a temporary folder first; `generated/` is replaced only when every
step (both generators, ruff, the file headers) succeeded. A failure names the step, shows the
tool's own message and, for a spec that is not valid YAML, the line and column.

The tools run from the Python environment running this module (the `generate` dependency
group); their configuration lives in `overrides/`: `overrides/client/config.yaml`,
`overrides/models/datamodel-codegen.toml`, `overrides/ruff.toml`, the templates under
`overrides/client/templates/` and `overrides/models/templates/`, and the client's runtime
modules `overrides/client/runtime/*.py`, copied into its package as they are. The files
written here rather than by a generator (the models project's pyproject.toml and README.md,
the [tool.ruff] tables, the headers) are in `toolchain.generated_files`; the comparison of
trees in `toolchain.trees`.

Longer than 300 lines on purpose: the steps of one atomic regeneration and the errors that
name the failing step and spec line belong together; file writing and tree comparison live in
`toolchain.generated_files` and `toolchain.trees`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import yaml

from contract.spec import SPEC_PATH
from toolchain.generated_files import (
    GenerationError,
    add_ruff_tables,
    header_text,
    models_project_files,
    stamp_headers,
)
from toolchain.own_modules import render_modules
from toolchain.trees import IGNORED_NAMES, compare_trees, report_stale, tree_files

__all__ = [
    "IGNORED_NAMES",
    "Config",
    "GenerationError",
    "build",
    "check",
    "compare_trees",
    "main",
    "read_spec",
    "regenerate",
    "tree_files",
]

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "generated"
OVERRIDES = ROOT / "overrides"

CLIENT_DIR = "client"
MODELS_DIR = "models"
CLIENT_PROJECT = "workonflow-call-client"
CLIENT_PACKAGE = "workonflow_call"
MODELS_PROJECT = "workonflow-call-models"
MODELS_PACKAGE = "workonflow_call_models"

# Names the model override templates use; the generator only imports what its own templates use.
MODEL_TEMPLATE_IMPORTS = ("typing.TypeAlias", "pydantic.ConfigDict", "pydantic.field_validator")


@dataclass(frozen=True)
class Config:
    """Where the generators' configuration lives, and whether to use the override templates.

    Without templates (`templates=False`) the generators use their default templates; the
    configuration files, the ruff pass and the file headers still apply.
    """

    overrides: Path = OVERRIDES
    templates: bool = True


@dataclass(frozen=True)
class SpecInfo:
    path: Path
    title: str
    version: str


def read_spec(spec: Path) -> SpecInfo:
    """Parse the spec far enough to know its version, with a line number on YAML errors."""
    try:
        text = spec.read_text(encoding="utf-8")
    except OSError as exc:
        raise GenerationError(f"cannot read the spec {spec}: {exc.strerror}") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{spec}:{mark.line + 1}:{mark.column + 1}" if mark else str(spec)
        raise GenerationError(f"{where}: the spec is not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise GenerationError(f"{spec}: the spec is not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise GenerationError(f"{spec}: the spec is not a YAML mapping")
    info = document.get("info")
    if not isinstance(info, dict) or not isinstance(info.get("version"), str | int | float):
        raise GenerationError(f"{spec}: the spec has no info.version")
    version = str(info["version"]).strip()
    if not version:
        raise GenerationError(f"{spec}: info.version is empty")
    return SpecInfo(path=spec, title=str(info.get("title", "")), version=version)


def tool(name: str) -> str:
    """The path of a console script installed beside the running interpreter."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise GenerationError(
            f"{name} is not installed: install the `generate` dependency group "
            "(nox -s generate does this)"
        )
    return found


OPERATION = re.compile(r"\b(GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE) (/\S*)")


def spec_locations(output: str, spec: Path) -> list[str]:
    """`spec:line` of each operation the tool's output names, for the failure message."""
    try:
        lines = spec.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found: list[str] = []
    for method, path in dict.fromkeys(OPERATION.findall(output)):
        for number, line in enumerate(lines, start=1):
            if line.strip() in (f"{path}:", f"'{path}':", f'"{path}":'):
                found.append(f"{spec}:{number}: {method} {path}")
                break
    return found


def run(step: str, command: Sequence[str], *, cwd: Path, spec: Path | None = None) -> None:
    """Run one tool; on failure raise GenerationError with its output."""
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV_PROMPT", None)
    result = subprocess.run(
        list(command), cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        output = "\n".join(part.strip() for part in (result.stdout, result.stderr) if part.strip())
        where = spec_locations(output, spec) if spec is not None else []
        located = "".join(f"\n  at {location}" for location in where)
        raise GenerationError(f"{step} failed (exit {result.returncode}):\n{output}{located}")


def generate_client(info: SpecInfo, dest: Path, config: Config) -> None:
    command = [
        tool("openapi-python-client"),
        "generate",
        "--path",
        str(info.path),
        "--config",
        str(config.overrides / "client" / "config.yaml"),
        "--meta",
        "uv",
        "--output-path",
        str(dest),
        "--fail-on-warning",
    ]
    templates = config.overrides / "client" / "templates"
    if config.templates and templates.is_dir():
        command += ["--custom-template-path", str(templates)]
    run("openapi-python-client", command, cwd=dest.parent, spec=info.path)
    if config.templates:
        add_runtime(config.overrides / "client" / "runtime", dest / CLIENT_PACKAGE)


def add_runtime(runtime: Path, package: Path) -> None:
    """Copy the client's runtime modules (plain Python, no template) into its package."""
    for module in sorted(runtime.glob("*.py")):
        target = package / module.name
        if target.exists():
            raise GenerationError(f"{module} would replace the generated {target.name}")
        shutil.copyfile(module, target)


def generate_models(info: SpecInfo, dest: Path, config: Config) -> None:
    package = dest / MODELS_PACKAGE
    package.mkdir(parents=True)
    # The generator reads its options from the nearest pyproject.toml of its output.
    files = models_project_files(
        config.overrides,
        project=MODELS_PROJECT,
        package=MODELS_PACKAGE,
        title=info.title,
        version=info.version,
    )
    for name, text in files.items():
        (dest / name).write_text(text, encoding="utf-8")
    (package / "py.typed").write_text("", encoding="utf-8")
    command = [
        tool("datamodel-codegen"),
        "--input",
        str(info.path),
        "--output",
        str(package / "__init__.py"),
        "--custom-file-header",
        f"# {header_text(info.version)}",
    ]
    templates = config.overrides / "models" / "templates"
    if config.templates and templates.is_dir():
        command += ["--custom-template-dir", str(templates)]
        command += ["--additional-imports", ",".join(MODEL_TEMPLATE_IMPORTS)]
    run("datamodel-codegen", command, cwd=dest, spec=info.path)


def format_tree(dest: Path, config: Config) -> None:
    """Fix and format all generated Python code with the pinned ruff and its one config."""
    ruff_config = str(config.overrides / "ruff.toml")
    ruff = tool("ruff")
    run(
        "ruff check", [ruff, "check", "--fix", "--no-cache", "--config", ruff_config, "."], cwd=dest
    )
    run("ruff format", [ruff, "format", "--no-cache", "--config", ruff_config, "."], cwd=dest)


def clean_tree(dest: Path) -> None:
    for path in sorted(dest.rglob("*"), reverse=True):
        if path.name in IGNORED_NAMES and path.is_dir():
            shutil.rmtree(path)


def build(spec: Path, dest: Path, config: Config | None = None) -> None:
    """Generate the whole tree into `dest`, a folder that must not exist yet."""
    config = config or Config()
    info = read_spec(spec)
    if dest.exists():
        raise GenerationError(f"{dest} already exists")
    dest.mkdir(parents=True)
    generate_client(info, dest / CLIENT_DIR, config)
    generate_models(info, dest / MODELS_DIR, config)
    if config.templates:
        for project, package in ((CLIENT_DIR, CLIENT_PACKAGE), (MODELS_DIR, MODELS_PACKAGE)):
            modules = config.overrides / project / "modules"
            render_modules(info.path, modules, dest / project / package)
        for project in (CLIENT_DIR, MODELS_DIR):
            add_ruff_tables(dest / project / "pyproject.toml", config.overrides / "ruff.toml")
    stamp_headers(dest, info.version)
    format_tree(dest, config)
    clean_tree(dest)


def regenerate(
    spec: Path = SPEC_PATH, target: Path = GENERATED, config: Config | None = None
) -> None:
    """Rebuild `target` from `spec`; `target` changes only when every step succeeded."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(spec.resolve(), work / "new", config)
        if target.exists():
            os.replace(target, work / "old")
        os.replace(work / "new", target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check(
    spec: Path = SPEC_PATH,
    target: Path = GENERATED,
    config: Config | None = None,
    *,
    out: TextIO | None = None,
) -> int:
    """Regenerate into a temporary folder and report how `target` differs; 0 when up to date."""
    with tempfile.TemporaryDirectory(
        prefix=".generated-check-", dir=target.resolve().parent
    ) as tmp:
        fresh = Path(tmp) / "generated"
        build(spec.resolve(), fresh, config)
        stale = compare_trees(fresh, target)
        out = out or sys.stdout
        if not stale:
            out.write(f"{target.name}/ is up to date with {spec.name}\n")
            return 0
        report_stale(fresh, target, stale, out)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m toolchain.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--spec", type=Path, default=SPEC_PATH, help="the OpenAPI document")
    parser.add_argument("--output", type=Path, default=GENERATED, help="the tree to regenerate")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="compare instead of writing")
    mode.add_argument("--into", type=Path, help="write a fresh tree into this new folder")
    parser.add_argument(
        "--no-overrides",
        action="store_true",
        help="use the generators' default templates (with --into)",
    )
    args = parser.parse_args(argv)
    if args.no_overrides and args.into is None:
        parser.error("--no-overrides needs --into: generated/ is always built with overrides/")
    try:
        if args.check:
            return check(args.spec, args.output)
        if args.into is not None:
            build(args.spec.resolve(), args.into.resolve(), Config(templates=not args.no_overrides))
            print(f"wrote {args.into}")
            return 0
        regenerate(args.spec, args.output)
    except GenerationError as exc:
        print(f"generation failed, {args.output} left untouched: {exc}", file=sys.stderr)
        return 1
    print(f"regenerated {args.output} from {args.spec} (version {read_spec(args.spec).version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

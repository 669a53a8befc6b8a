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
`overrides/models/datamodel-codegen.toml`, `overrides/ruff.toml`, and the templates under
`overrides/client/templates/` and `overrides/models/templates/`.
"""

from __future__ import annotations

import argparse
import difflib
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

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
GENERATED = ROOT / "generated"
OVERRIDES = ROOT / "overrides"

CLIENT_DIR = "client"
MODELS_DIR = "models"
CLIENT_PROJECT = "workonflow-call-client"
CLIENT_PACKAGE = "workonflow_call"
MODELS_PROJECT = "workonflow-call-models"
MODELS_PACKAGE = "workonflow_call_models"

# Folders a tool or an editable install may leave behind that are not part of the generated tree.
IGNORED_NAMES = {".ruff_cache", "__pycache__", ".mypy_cache", ".pytest_cache", "build", "dist"}
IGNORED_SUFFIXES = (".egg-info",)


def ignored(relative: Path) -> bool:
    return any(part in IGNORED_NAMES or part.endswith(IGNORED_SUFFIXES) for part in relative.parts)


# Names the model override templates use; the generator only imports what its own templates use.
MODEL_TEMPLATE_IMPORTS = ("typing.TypeAlias", "pydantic.ConfigDict", "pydantic.field_validator")


class GenerationError(Exception):
    """A step of the generation failed; the message says which and why."""


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


def header_text(version: str) -> str:
    """The sentence every generated file starts with."""
    return f"Generated from openapi.yaml version {version}. Do not edit."


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


def ruff_tables(config: Config) -> str:
    """overrides/ruff.toml as [tool.ruff] tables, for the pyproject.toml of a generated project.

    Ruff run anywhere in the checkout then reads, for generated code, the configuration the code
    was formatted with, not the checkout's own (whose rule set may differ).
    """
    lines = ["[tool.ruff]"]
    for line in (config.overrides / "ruff.toml").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            line = f"[tool.ruff.{stripped[1:-1]}]"
        lines.append(line)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines) + "\n"


def add_ruff_tables(pyproject: Path, config: Config) -> None:
    text = pyproject.read_text(encoding="utf-8")
    if "[tool.ruff" in text:
        raise GenerationError(f"{pyproject} already has a [tool.ruff] table")
    pyproject.write_text(text.rstrip("\n") + "\n\n" + ruff_tables(config), encoding="utf-8")


def models_pyproject(info: SpecInfo, config: Config) -> str:
    options = (config.overrides / "models" / "datamodel-codegen.toml").read_text(encoding="utf-8")
    return (
        f"# {header_text(info.version)}\n"
        "[project]\n"
        f'name = "{MODELS_PROJECT}"\n'
        f'version = "{info.version}"\n'
        f'description = "Pydantic models of the {info.title}"\n'
        'requires-python = ">=3.11"\n'
        'readme = "README.md"\n'
        "dependencies = [\n"
        '    "pydantic>=2.11,<3",\n'
        "]\n"
        "\n"
        "[build-system]\n"
        'requires = ["setuptools>=77"]\n'
        'build-backend = "setuptools.build_meta"\n'
        "\n"
        "[tool.setuptools]\n"
        f'packages = ["{MODELS_PACKAGE}"]\n'
        "\n"
        "[tool.setuptools.package-data]\n"
        f'{MODELS_PACKAGE} = ["py.typed"]\n'
        "\n" + options
    )


def models_readme(info: SpecInfo) -> str:
    return (
        f"<!-- {header_text(info.version)} -->\n"
        f"# {MODELS_PROJECT}\n\n"
        f"Pydantic v2 models of the {info.title} {info.version}, one class per schema of\n"
        "`openapi.yaml`, field names exactly as in the spec.\n\n"
        "Request models reject unknown fields; response models keep them.\n\n"
        "```python\n"
        f"from {MODELS_PACKAGE} import CallStartRequest, CallEndResponse\n\n"
        'request = CallStartRequest(threadId="5b0525134c0319001573485e")\n'
        'print(request.model_dump_json(exclude_unset=True))  # {"threadId":"5b05..."}\n'
        "```\n"
    )


def generate_models(info: SpecInfo, dest: Path, config: Config) -> None:
    package = dest / MODELS_PACKAGE
    package.mkdir(parents=True)
    # The generator reads its options from the nearest pyproject.toml of its output.
    (dest / "pyproject.toml").write_text(models_pyproject(info, config), encoding="utf-8")
    (dest / "README.md").write_text(models_readme(info), encoding="utf-8")
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


def header_line(path: Path, version: str) -> str | None:
    """The header line for a file of this kind, or None when the format has no comments."""
    text = header_text(version)
    if path.suffix == ".md":
        return f"<!-- {text} -->"
    if path.suffix in {".py", ".toml", ".cfg", ".txt", ".typed"} or path.name == ".gitignore":
        return f"# {text}"
    return None


def stamp_headers(dest: Path, version: str) -> None:
    """Start every generated file with the header, unless its template already wrote it."""
    for path in sorted(dest.rglob("*")):
        if not path.is_file():
            continue
        line = header_line(path, version)
        if line is None:
            raise GenerationError(f"no header format for {path.relative_to(dest)}")
        content = path.read_text(encoding="utf-8")
        if content.startswith(line + "\n"):
            continue
        path.write_text(f"{line}\n{content}" if content else f"{line}\n", encoding="utf-8")


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
        for project in (CLIENT_DIR, MODELS_DIR):
            add_ruff_tables(dest / project / "pyproject.toml", config)
    stamp_headers(dest, info.version)
    format_tree(dest, config)
    clean_tree(dest)


def regenerate(spec: Path = SPEC, target: Path = GENERATED, config: Config | None = None) -> None:
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


def tree_files(root: Path) -> dict[str, bytes]:
    """Relative path -> content of every file under root (tool caches left out)."""
    files: dict[str, bytes] = {}
    if not root.exists():
        return files
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if ignored(relative) or not path.is_file():
            continue
        files[relative.as_posix()] = path.read_bytes()
    return files


def compare_trees(expected: Path, actual: Path) -> list[tuple[str, str]]:
    """(path, 'missing' | 'extra' | 'differs') for each file where `actual` is stale."""
    want, have = tree_files(expected), tree_files(actual)
    stale: list[tuple[str, str]] = []
    for name in sorted(want.keys() | have.keys()):
        if name not in have:
            stale.append((name, "missing"))
        elif name not in want:
            stale.append((name, "extra"))
        elif want[name] != have[name]:
            stale.append((name, "differs"))
    return stale


def check(
    spec: Path = SPEC,
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
        write = (out or sys.stdout).write
        if not stale:
            write(f"{target.name}/ is up to date with {spec.name}\n")
            return 0
        write(f"{target.name}/ is stale: {len(stale)} file(s) differ from a fresh generation\n")
        for name, status in stale:
            write(f"  {status:8} {target.name}/{name}\n")
        for name, status in stale:
            if status != "differs":
                continue
            try:
                old = (target / name).read_text(encoding="utf-8").splitlines(keepends=True)
                new = (fresh / name).read_text(encoding="utf-8").splitlines(keepends=True)
            except UnicodeDecodeError:
                continue
            write(
                "".join(
                    difflib.unified_diff(
                        old,
                        new,
                        f"{target.name}/{name} (committed)",
                        f"{target.name}/{name} (fresh)",
                    )
                )
            )
        write("Run `nox -s generate` and commit the result.\n")
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m toolchain.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--spec", type=Path, default=SPEC, help="the OpenAPI document")
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

"""The files of generated/ that toolchain.generate writes itself, not the generators.

The models project's `pyproject.toml` and `README.md` (templates under `overrides/models/`),
the `[tool.ruff]` tables both projects carry (from `overrides/ruff.toml`), and the header line
every generated file starts with.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jinja2

from contract import demo


class GenerationError(Exception):
    """A step of the generation failed; the message says which and why."""


def header_text(version: str) -> str:
    """The sentence every generated file starts with."""
    return f"Generated from openapi.yaml version {version}. Do not edit."


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


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(item, str) for item in value)
    ):
        return json.dumps(value)  # a JSON string or list of strings is valid TOML
    raise GenerationError(f"ruff.toml: cannot copy the value {value!r} into pyproject.toml")


def _toml_tables(prefix: str, table: dict[str, Any]) -> list[str]:
    lines = [f"[{prefix}]"]
    lines += [f"{key} = {_toml_value(v)}" for key, v in table.items() if not isinstance(v, dict)]
    for key, value in table.items():
        if isinstance(value, dict):
            lines += ["", *_toml_tables(f"{prefix}.{key}", value)]
    return lines


def ruff_tables(ruff_toml: Path) -> str:
    """overrides/ruff.toml as [tool.ruff] tables, for the pyproject.toml of a generated project.

    Ruff run anywhere in the checkout then reads, for generated code, the configuration the code
    was formatted with, not the checkout's own (whose rule set may differ).
    """
    try:
        config = tomllib.loads(ruff_toml.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise GenerationError(f"cannot read {ruff_toml}: {exc}") from exc
    return "\n".join(_toml_tables("tool.ruff", config)) + "\n"


def add_ruff_tables(pyproject: Path, ruff_toml: Path) -> None:
    text = pyproject.read_text(encoding="utf-8")
    if "[tool.ruff" in text:
        raise GenerationError(f"{pyproject} already has a [tool.ruff] table")
    tables = ruff_tables(ruff_toml)
    pyproject.write_text(text.rstrip("\n") + "\n\n" + tables, encoding="utf-8")


def render(template: Path, **values: Any) -> str:
    """A template of overrides/ (Jinja, undefined names are errors)."""
    environment = jinja2.Environment(  # TOML and Markdown, not HTML
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    try:
        return environment.from_string(template.read_text(encoding="utf-8")).render(**values)
    except (OSError, jinja2.TemplateError) as exc:
        raise GenerationError(f"cannot render {template}: {exc}") from exc


def models_project_files(
    overrides: Path, *, project: str, package: str, title: str, version: str
) -> dict[str, str]:
    """The models project's pyproject.toml and README.md, by file name."""
    values = {
        "header": header_text(version),
        "project": project,
        "package": package,
        "title": title,
        "version": version,
        "thread": demo.THREADS[0],
        "codegen_options": (overrides / "models" / "datamodel-codegen.toml").read_text(
            encoding="utf-8"
        ),
    }
    return {
        name: render(overrides / "models" / f"{name}.jinja", **values)
        for name in ("pyproject.toml", "README.md")
    }

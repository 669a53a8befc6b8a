"""Regeneration of generated/: reproducible, up to date, atomic on failure, and a drift gate.

These tests run the real generators (the `generate` dependency group), each build into a
temporary folder; generated/ itself is only read.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from contract.spec import SPEC_PATH, load
from testkit.spec import ROOT, require_generators
from toolchain import generate
from toolchain.generate import Config, GenerationError

require_generators()

GENERATED = ROOT / "generated"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generation of the committed spec, shared by the tests of this module."""
    dest = tmp_path_factory.mktemp("fresh") / "generated"
    generate.build(SPEC_PATH, dest)
    return dest


@pytest.fixture
def committed_copy(tmp_path: Path) -> Path:
    """A copy of generated/ that a test may regenerate (or fail to)."""
    target = tmp_path / "generated"
    shutil.copytree(
        GENERATED, target, ignore=shutil.ignore_patterns(*generate.IGNORED_NAMES, "*.egg-info")
    )
    return target


def test_generated_is_up_to_date(fresh: Path) -> None:
    stale = generate.compare_trees(fresh, GENERATED)
    assert stale == [], f"generated/ is stale, run `nox -s generate`: {stale}"


def test_generation_is_byte_for_byte_reproducible(fresh: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate.build(SPEC_PATH, again)
    assert generate.compare_trees(fresh, again) == []
    files = generate.tree_files(again)
    assert not [name for name, data in files.items() if b" object at 0x" in data]
    assert not [name for name in files if ".ruff_cache" in name or "__pycache__" in name]


def test_both_projects_are_complete(fresh: Path) -> None:
    files = generate.tree_files(fresh)
    for project, package in (("client", "workonflow_call"), ("models", "workonflow_call_models")):
        assert f"{project}/pyproject.toml" in files
        assert f"{project}/README.md" in files
        assert f"{project}/{package}/__init__.py" in files
        assert f"{project}/{package}/py.typed" in files
        pyproject = files[f"{project}/pyproject.toml"].decode()
        assert f'version = "{load().version}"' in pyproject
        assert "[tool.ruff]" in pyproject


def test_every_file_starts_with_the_header(fresh: Path) -> None:
    version = generate.read_spec(SPEC_PATH).version
    sentence = f"Generated from openapi.yaml version {version}. Do not edit."
    missing = [
        name
        for name, data in generate.tree_files(fresh).items()
        if sentence not in data.decode().splitlines()[0]
    ]
    assert missing == []


def test_the_version_comes_from_the_spec(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        SPEC_PATH.read_text(encoding="utf-8").replace(
            f"  version: {load().version}\n", "  version: 1.2.3\n", 1
        ),
        encoding="utf-8",
    )
    dest = tmp_path / "out"
    generate.build(spec, dest)
    assert 'version = "1.2.3"' in (dest / "client" / "pyproject.toml").read_text()
    assert 'version = "1.2.3"' in (dest / "models" / "pyproject.toml").read_text()
    assert (
        (dest / "client" / "workonflow_call" / "errors.py")
        .read_text()
        .startswith("# Generated from openapi.yaml version 1.2.3. Do not edit.\n")
    )


def test_check_passes_on_the_committed_tree(committed_copy: Path) -> None:
    out = io.StringIO()
    assert generate.check(SPEC_PATH, committed_copy, out=out) == 0
    assert "up to date" in out.getvalue()


def test_check_lists_stale_extra_and_missing_files(committed_copy: Path) -> None:
    errors_py = committed_copy / "client" / "workonflow_call" / "errors.py"
    errors_py.write_text(errors_py.read_text() + "# edited by hand\n")
    (committed_copy / "models" / "stray.py").write_text("x = 1\n")
    (committed_copy / "client" / "README.md").unlink()
    out = io.StringIO()
    assert generate.check(SPEC_PATH, committed_copy, out=out) == 1
    report = out.getvalue()
    assert "differs  generated/client/workonflow_call/errors.py" in report
    assert "extra    generated/models/stray.py" in report
    assert "missing  generated/client/README.md" in report
    assert "-# edited by hand" in report  # the diff itself


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_a_spec_that_is_not_yaml_leaves_the_tree_untouched(
    committed_copy: Path, tmp_path: Path
) -> None:
    before = tree_bytes(committed_copy)
    spec = tmp_path / "broken.yaml"
    lines = SPEC_PATH.read_text(encoding="utf-8").splitlines()
    lines[40] = "  : [unclosed"
    spec.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(GenerationError, match=r"broken\.yaml:41:\d+: the spec is not valid YAML"):
        generate.regenerate(spec, committed_copy)
    assert tree_bytes(committed_copy) == before
    assert sorted(p.name for p in committed_copy.parent.iterdir()) == ["broken.yaml", "generated"]


def test_a_spec_the_generator_rejects_leaves_the_tree_untouched(
    committed_copy: Path, tmp_path: Path
) -> None:
    before = tree_bytes(committed_copy)
    spec = tmp_path / "dangling.yaml"
    spec.write_text(
        SPEC_PATH.read_text(encoding="utf-8").replace(
            "$ref: '#/components/schemas/CallStartRequest'",
            "$ref: '#/components/schemas/NoSuchSchema'",
        ),
        encoding="utf-8",
    )
    with pytest.raises(GenerationError) as failure:
        generate.regenerate(spec, committed_copy)
    message = str(failure.value)
    assert message.startswith("openapi-python-client failed")
    assert "POST /{teamId}/call/start" in message  # the generator names the operation
    line = SPEC_PATH.read_text().splitlines().index("  /{teamId}/call/start:") + 1
    assert f"at {spec}:{line}: POST /{{teamId}}/call/start" in message
    assert "Could not find reference" in message
    assert tree_bytes(committed_copy) == before


@pytest.mark.parametrize(
    ("template", "tool"),
    [
        ("client/templates/endpoint_module.py.jinja", "openapi-python-client"),
        ("models/templates/pydantic_v2/BaseModel.jinja2", "datamodel-codegen"),
    ],
)
def test_a_broken_template_leaves_the_tree_untouched(
    committed_copy: Path, tmp_path: Path, template: str, tool: str
) -> None:
    overrides = tmp_path / "overrides"
    shutil.copytree(ROOT / "overrides", overrides)
    broken = overrides / template
    broken.write_text(
        broken.read_text(encoding="utf-8") + "\n{% if unclosed %}\n", encoding="utf-8"
    )
    before = tree_bytes(committed_copy)
    with pytest.raises(GenerationError) as failure:
        generate.regenerate(SPEC_PATH, committed_copy, Config(overrides=overrides))
    assert str(failure.value).startswith(f"{tool} failed")
    assert tree_bytes(committed_copy) == before


def test_the_command_line_reports_a_failure_and_exits_1(
    committed_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "empty.yaml"
    spec.write_text("openapi: 3.1.0\ninfo: {title: x}\npaths: {}\n", encoding="utf-8")
    before = tree_bytes(committed_copy)
    assert generate.main(["--spec", str(spec), "--output", str(committed_copy)]) == 1
    assert "has no info.version" in capsys.readouterr().err
    assert tree_bytes(committed_copy) == before


def test_the_command_line_check_exits_1_when_stale(
    committed_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (committed_copy / "models" / "README.md").write_text("changed\n")
    assert generate.main(["--check", "--output", str(committed_copy)]) == 1
    assert "differs  generated/models/README.md" in capsys.readouterr().out

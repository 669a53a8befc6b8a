"""Golden tests of the override templates.

Generating with and without overrides/ must differ in exactly the files the overrides are for:
a new file, a file that stops differing (an override no longer applied) or one that starts
differing (an upstream template change leaking into a file we do not override) fails here.
A second test pins the upstream templates each override replaces, so that a generator upgrade
that changes one of them is merged into the override instead of silently lost.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from pathlib import Path

import pytest

from contract.spec import ROOT, SPEC_PATH, load
from testkit.spec import require_generators
from toolchain import generate
from toolchain.generate import Config

require_generators()

OVERRIDES = ROOT / "overrides"


def snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower())


# openapi-python-client's layout: a folder per first tag, a module per operationId.
ENDPOINT_MODULES = [f"{snake(op.tag)}/{snake(op.operation_id)}.py" for op in load()]

# Each file, and the override that makes it differ.
OVERRIDDEN = {
    "client/README.md": "client/templates/README.md.jinja",
    "client/pyproject.toml": "client/templates/pyproject_ruff.toml.jinja (+ ruff.toml tables)",
    "client/workonflow_call/__init__.py": "client/templates/package_init.py.jinja",
    "client/workonflow_call/api/__init__.py": "client/templates/api_init.py.jinja",
    "client/workonflow_call/errors.py": "client/templates/errors.py.jinja",
    **{
        f"client/workonflow_call/api/{module}": "client/templates/endpoint_module.py.jinja"
        for module in ENDPOINT_MODULES
    },
    "models/pyproject.toml": "ruff.toml tables",
    "models/workonflow_call_models/__init__.py": "models/templates/pydantic_v2/*.jinja2",
}
#: Files only the overrides bring: the client's runtime modules, copied as they are.
RUNTIME = {
    f"client/workonflow_call/{module.name}": f"client/runtime/{module.name}"
    for module in sorted((OVERRIDES / "client" / "runtime").glob("*.py"))
}
#: Files only the overrides bring: the packages' own modules, rendered by toolchain.own_modules.
RENDERED = {
    f"{project}/{package}/{module.name.removesuffix('.jinja')}": f"{project}/modules/{module.name}"
    for project, package in (("client", "workonflow_call"), ("models", "workonflow_call_models"))
    for module in sorted((OVERRIDES / project / "modules").glob("*.py.jinja"))
}
ADDED = {**RUNTIME, **RENDERED}


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("golden")
    with_overrides, without = base / "with", base / "without"
    generate.build(SPEC_PATH, with_overrides)
    generate.build(SPEC_PATH, without, Config(templates=False))
    return with_overrides, without


def test_exactly_the_overridden_files_differ(trees: tuple[Path, Path]) -> None:
    with_overrides, without = trees
    differences = dict(generate.compare_trees(without, with_overrides))
    assert sorted(name for name, status in differences.items() if status == "differs") == sorted(
        OVERRIDDEN
    )
    assert sorted(name for name, status in differences.items() if status != "differs") == sorted(
        ADDED
    )
    assert {differences[name] for name in ADDED} <= {"extra"}, differences


@pytest.mark.parametrize("module", RENDERED.values())
def test_own_modules_say_why_they_exist(module: str) -> None:
    assert (OVERRIDES / module).read_text().startswith("{#- A module of our own"), module


@pytest.mark.parametrize(("generated", "source"), RUNTIME.items())
def test_runtime_modules_are_copied_as_they_are(
    trees: tuple[Path, Path], generated: str, source: str
) -> None:
    copied = (trees[0] / generated).read_text()
    # Only the header line and ruff's formatting (which leaves this file as it is) apply.
    assert copied.split("\n", 1)[1] == (OVERRIDES / source).read_text()


def test_the_defaults_still_produce_the_behaviour_the_overrides_change(
    trees: tuple[Path, Path],
) -> None:
    with_overrides, without = trees
    plain = (without / "client/workonflow_call/api/call/call_start.py").read_text()
    custom = (with_overrides / "client/workonflow_call/api/call/call_start.py").read_text()
    assert "-> CallStartResponse | ErrorResponse | None:" in plain
    assert "-> CallStartResponse:" in custom and "errors.CallApiError" in custom
    # The signer and the bound API's runtime live in the runtime module (no template renders a
    # file of its own for them), the bound API's module declares the operations on them, and
    # the package exports the signer; upstream has none of it.
    plain_api = (without / "client/workonflow_call/api/__init__.py").read_text()
    custom_api = (with_overrides / "client/workonflow_call/api/__init__.py").read_text()
    runtime = (with_overrides / "client/workonflow_call/runtime.py").read_text()
    assert "BotSignature" not in plain_api
    assert "class BotSignature(httpx.Auth):" in runtime
    assert "from ..runtime import AsyncApi, BotSignature, SyncApi" in custom_api
    assert "class CallApi(SyncApi):" in custom_api
    assert "def with_options(" in runtime
    package = (with_overrides / "client/workonflow_call/__init__.py").read_text()
    assert "from .api import AsyncCallApi, BotSignature, CallApi" in package
    assert "BotSignature" not in (without / "client/workonflow_call/__init__.py").read_text()
    # Upstream's bearer client is still generated (untouched): the endpoint functions accept it.
    assert (
        "class AuthenticatedClient:"
        in (with_overrides / "client/workonflow_call/client.py").read_text()
    )
    plain_models = (without / "models/workonflow_call_models/__init__.py").read_text()
    custom_models = (with_overrides / "models/workonflow_call_models/__init__.py").read_text()
    assert "class ObjectId(RootModel[str])" in plain_models
    assert "ObjectId: TypeAlias = Annotated[" in custom_models
    assert "_items_are_unique" not in plain_models
    assert "_userIds_items_are_unique" in custom_models


def upstream_records() -> list[tuple[str, str, str]]:
    records = []
    for line in (OVERRIDES / "upstream-templates.sha256").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, override, upstream = line.split()
            records.append((digest, override, upstream))
    return records


#: Templates of this project's own, shared by the overrides (macros): no upstream to pin.
OWN_TEMPLATES = ["client/templates/call_api_macros.py.jinja"]


def test_every_override_template_is_recorded() -> None:
    templates = sorted(
        path.relative_to(OVERRIDES).as_posix()
        for path in OVERRIDES.glob("*/templates/**/*")
        if path.is_file()
    )
    recorded = [override for _, override, _ in upstream_records()]
    assert templates == sorted(recorded + OWN_TEMPLATES)


@pytest.mark.parametrize("own", OWN_TEMPLATES)
def test_own_templates_say_so_and_shadow_no_upstream_template(own: str) -> None:
    assert (OVERRIDES / own).read_text().startswith("{#- Not an override"), own
    spec = importlib.util.find_spec("openapi_python_client")
    assert spec is not None and spec.origin is not None
    upstream = Path(spec.origin).parent / "templates" / Path(own).name
    assert not upstream.exists(), f"{own} now shadows an upstream template"


@pytest.mark.parametrize(
    ("digest", "override", "upstream"), upstream_records(), ids=lambda value: str(value)[:40]
)
def test_upstream_template_is_the_one_the_override_was_written_against(
    digest: str, override: str, upstream: str
) -> None:
    package, relative = upstream.split(":", 1)
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin is not None
    path = Path(spec.origin).parent / relative
    assert path.is_file(), f"{upstream} no longer exists: is {override} still used?"
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    assert actual == digest, (
        f"{upstream} changed upstream: merge the change into overrides/{override}, "
        "then record the new checksum in overrides/upstream-templates.sha256"
    )
    assert (OVERRIDES / override).read_text().startswith("{#- Override of"), (
        f"overrides/{override} must start with a comment saying why it exists"
    )

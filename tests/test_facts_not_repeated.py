"""No module repeats what openapi.yaml states: the facts come from `contract.spec`.

The project's code and tests take the operations, the body limit and the ids' pattern from the
spec (`contract.spec.load()`), so that a change of the spec reaches them with no edit. This
test reads every Python module of the project (not `generated/`) and fails on:

- a literal list, tuple, set or dict naming two or more of the spec's operations (by `{method}`
  or operationId): a hand-kept list of operations, which goes stale; a test may name a
  scenario of up to `LIST_LIMIT - 1` operations;
- the body limit (`info.x-max-request-body-bytes`) as a number, or the ids' pattern as text;
- in the modules that ask `contract.rules` what an operation does (`ASKS_THE_RULES`), any
  operation or field of the spec named at all: a thirteenth operation or a renamed field needs
  no edit of them.

A module naming one operation to act on it (a scenario, a faulty server, the model's rule for
it) is fine. The few places allowed to list operations say why below.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract.spec import ROOT, load

SPEC = load()
#: A literal collection naming this many operations is a hand-kept list of them (in tests; in
#: the project's code, two are).
LIST_LIMIT = 5
CODE_LIST_LIMIT = 2
#: Where listing operations by hand is the point, and why.
MAY_LIST = {
    # An independent check of the spec against Workonflow's source document: it must not
    # take its expectations from the spec it checks.
    "tests/test_spec_source.py",
}
PACKAGES = ("contract", "reference_server", "fuzzing", "toolchain", "testkit", "bench", "tests")
#: Where the facts are read from the spec.
READS_THE_SPEC = {"contract/spec.py"}
#: Where what each operation does is written (`contract.rules`) ...
SAYS_WHAT_OPERATIONS_DO = "contract/rules.py"
#: ... and the modules that ask it (and `contract.spec`) instead of naming operations or fields.
ASKS_THE_RULES = {
    "contract/model.py",
    "fuzzing/runner.py",
    "fuzzing/walk.py",
    "reference_server/handlers.py",
}


def modules() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))
    yield ROOT / "noxfile.py"


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _buffer_sizes(tree: ast.AST) -> set[int]:
    """Sizes given to a read from a socket or file: 64 KiB there is a buffer, not the limit."""
    return {
        id(argument)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("recv", "read", "recv_into")
        for argument in node.args
    }


def spec_fields() -> set[str]:
    """Every field of the spec's request bodies and success `data`."""
    fields = {name for operation in SPEC for name in operation.data_fields}
    for operation in SPEC:
        if operation.request_schema is not None:
            fields |= _properties(SPEC.schema(operation.request_schema))
    return fields


def _properties(schema: object) -> set[str]:
    if isinstance(schema, dict):
        found = set(schema.get("properties") or {})
        return found.union(*(_properties(branch) for branch in schema.get("oneOf", [])))
    return set()


def named_facts(source: str) -> list[str]:
    """Every operation and field of the spec that `source` names outside its docstrings."""
    operations = set(SPEC.operations) | {operation.operation_id for operation in SPEC}
    fields = spec_fields()
    tree = ast.parse(source)
    ignored = _docstrings(tree)
    named = sorted(
        (node.lineno, node.col_offset, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and id(node) not in ignored
        if isinstance(node.value, str) and node.value in operations | fields
    )
    return [
        f"line {line}: the {'operation' if value in operations else 'field'} {value!r}"
        for line, _, value in named
    ]


def repeated_facts(source: str, list_limit: int = LIST_LIMIT) -> list[str]:
    """What `source` hard-codes of the spec, one line each (`line N: ...`)."""
    names = set(SPEC.operations) | {operation.operation_id for operation in SPEC}
    pattern = SPEC.id_pattern.strip("^$")
    tree = ast.parse(source)
    ignored = _docstrings(tree) | _buffer_sizes(tree)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.List | ast.Tuple | ast.Set | ast.Dict):
            items = node.keys if isinstance(node, ast.Dict) else node.elts
            listed = {
                item.value
                for item in items
                if isinstance(item, ast.Constant) and isinstance(item.value, str)
                if item.value in names
            }
            if len(listed) >= list_limit:
                problems.append(f"line {node.lineno}: a hand-kept list of {len(listed)} operations")
        elif isinstance(node, ast.Constant) and id(node) not in ignored:
            value = node.value
            if isinstance(value, int) and not isinstance(value, bool):
                if value == SPEC.max_body_bytes:
                    problems.append(f"line {node.lineno}: the body limit {value}")
            elif isinstance(value, str) and pattern in value:
                problems.append(f"line {node.lineno}: the ids' pattern in {value!r}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            left, right = node.left, node.right
            if (
                isinstance(left, ast.Constant)
                and isinstance(right, ast.Constant)
                and isinstance(left.value, int)
                and isinstance(right.value, int)
                and left.value * right.value == SPEC.max_body_bytes
            ):
                problems.append(f"line {node.lineno}: the body limit as a product")
    return problems


@pytest.mark.parametrize(
    "path",
    [p for p in modules() if p.relative_to(ROOT).as_posix() not in READS_THE_SPEC],
    ids=lambda p: p.relative_to(ROOT).as_posix(),
)
def test_no_module_repeats_what_the_spec_says(path: Path) -> None:
    name = path.relative_to(ROOT).as_posix()
    limit = LIST_LIMIT if name.startswith("tests/") else CODE_LIST_LIMIT
    problems = repeated_facts(path.read_text(encoding="utf-8"), limit)
    if name in MAY_LIST:
        problems = [p for p in problems if "hand-kept list" not in p]
    assert not problems, f"{name} repeats the spec: {problems}"


@pytest.mark.parametrize("name", sorted(ASKS_THE_RULES))
def test_the_modules_that_ask_the_rules_name_no_operation_or_field(name: str) -> None:
    problems = named_facts((ROOT / name).read_text(encoding="utf-8"))
    assert not problems, f"{name} names what {SAYS_WHAT_OPERATIONS_DO} or the spec says: {problems}"


def test_the_guard_finds_each_kind_of_repetition() -> None:
    listed = ", ".join(repr(method) for method in list(SPEC.operations)[:LIST_LIMIT])
    source = f'''
"""A docstring may mention {SPEC.max_body_bytes} and {SPEC.id_pattern}."""
OPERATIONS = [{listed}]
LIMIT = {SPEC.max_body_bytes}
CHUNK = sock.recv({SPEC.max_body_bytes})
OTHER = 64 * 1024
ID = "{SPEC.id_pattern}"
'''
    assert repeated_facts(source) == [
        f"line 3: a hand-kept list of {LIST_LIMIT} operations",
        f"line 4: the body limit {SPEC.max_body_bytes}",
        "line 6: the body limit as a product",
        f"line 7: the ids' pattern in {SPEC.id_pattern!r}",
    ]


def test_the_guard_finds_short_lists_in_code_and_names_in_the_modules_that_ask() -> None:
    first, second = list(SPEC.operations)[:2]
    field = SPEC.operations[first].data_fields[0]
    source = f'''
"""The docstring of a module asking the rules may name {first} and {field}."""
PAIR = ({first!r}, {second!r})
if method == {first!r}:
    expected[{field!r}] = 1
'''
    assert repeated_facts(source, CODE_LIST_LIMIT) == ["line 3: a hand-kept list of 2 operations"]
    assert repeated_facts(source) == []  # a test may name a scenario of two
    assert named_facts(source) == [
        f"line 3: the operation {first!r}",
        f"line 3: the operation {second!r}",
        f"line 4: the operation {first!r}",
        f"line 5: the field {field!r}",
    ]

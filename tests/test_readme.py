"""The README tells the truth: its client example runs against the reference server."""

from __future__ import annotations

import re

from reference_server import create_app
from reference_server.testing import serve_in_thread
from testkit.spec import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_client_example_runs_against_the_reference_server(capsys) -> None:  # type: ignore[no-untyped-def]
    example = re.search(r"```python\n(from workonflow_call import .*?)```", README, re.DOTALL)
    assert example, "README.md has no client example"
    app = create_app(":memory:")
    try:
        with serve_in_thread(app) as base_url:
            exec(example.group(1).replace("http://127.0.0.1:8080", base_url), {})
    finally:
        app.close()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1"
    assert lines[1].startswith("409 ")
    call_duration, dialog_duration, result = lines[2].split()
    assert 0 <= int(dialog_duration) <= int(call_duration)
    assert result == "answered"


def test_the_two_commands_name_sessions_that_exist() -> None:
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    commands = re.findall(r"python3 -m nox -s (\w+)", README)
    assert commands[:2] == ["fuzz", "tests"]
    for session in set(commands):
        assert re.search(rf"^def {session}\(session", noxfile, re.MULTILINE), session
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 -m nox -s tests" in ci


def test_the_fixtures_example_is_a_valid_fixtures_file_and_its_options_exist() -> None:
    from contract.fixtures import parse
    from fuzzing.cli import build_parser

    section = README.split("## Fuzzing your own server", 1)[1].split("\n## ", 1)[0]
    example = re.search(r"<<'TOML'\n(.*?)TOML\n", section, re.DOTALL)
    assert example, "the section has no fixtures example"
    fixtures = parse(example.group(1), "README.md")
    assert fixtures.threads and fixtures.users and fixtures.audio
    from reference_server.__main__ import build_parser as server_parser

    options = set(build_parser()._option_string_actions)
    options |= set(server_parser()._option_string_actions)  # `--known-ids`, the same format
    named = set(re.findall(r"(--[a-z][a-z-]+)", section))
    assert named <= options, named - options

"""constraints.txt locks every package the sessions install (`nox -s lock` rewrites it)."""

from __future__ import annotations

import re
import tomllib

from testkit.spec import ROOT


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[normalise(name)] = version.strip()
    return pins


def test_every_pin_of_pyproject_is_locked_at_its_version() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = locked()
    for group, requirements in pyproject["dependency-groups"].items():
        for requirement in requirements:
            name, _, version = requirement.partition("==")
            assert version, f"{group}: {requirement} is not pinned with =="
            assert pins.get(normalise(name.split("[")[0])) == version, (
                f"{requirement} ({group}) is not what constraints.txt locks: run `nox -s lock`"
            )


def test_the_generated_projects_dependencies_and_build_backends_are_locked() -> None:
    pins = locked()
    for package in ("client", "models"):
        project = tomllib.loads(
            (ROOT / "generated" / package / "pyproject.toml").read_text(encoding="utf-8")
        )
        for requirement in [
            *project["project"]["dependencies"],
            *project["build-system"]["requires"],
        ]:
            name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)  # type: ignore[union-attr]
            assert normalise(name) in pins, f"{package}: {requirement} is not locked"


def test_nox_is_pinned_once() -> None:
    """The `nox` group pins nox; noxfile.py's needs_version (a literal nox reads before it runs
    the file) names the same version, and every install command takes it from the lock."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [requirement] = pyproject["dependency-groups"]["nox"]
    version = requirement.partition("==")[2]
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    assert f'\nnox.needs_version = ">={version}"\n' in noxfile
    for path in ("README.md", ".ci/run", "noxfile.py", "bench/regenerate.py"):
        text = (ROOT / path).read_text(encoding="utf-8")
        assert "nox[uv]==" not in text, (
            f"{path} pins nox itself: install it with -c constraints.txt"
        )
    assert "-c constraints.txt 'nox[uv]'" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")

"""Publish the spec for other languages: write `dist/` from `openapi.yaml`.

    python -m toolchain.publish                 # write dist/ (replaced only when every step worked)
    python -m toolchain.publish --out DIR       # write somewhere else

What it writes:

    openapi.yaml, openapi.json    the spec bundled into one file each (redocly bundle)
    openapi.generators.json/.yaml the same spec for code generators (`for_generators`): what
                                  the clients below are generated from, and what a user's own
                                  generator should read
    docs/index.html               reference docs in one self-contained page (redocly build-docs
                                  --inlineBundle: no script or stylesheet from the network)
    types/schema.d.ts             TypeScript types (openapi-typescript)
    clients/typescript/           TypeScript fetch client (openapi-generator typescript-fetch)
    clients/go/                   Go client (openapi-generator go)
    README.md, manifest.json      what is where; every file with its sha256, the spec version
                                  and the tool versions

The Node tools come from `npm/node_modules` (installed by the nox session from the lock file),
openapi-generator from the `openapi-generator-cli` Python package of the running environment
(the `publish` dependency group), which ships the generator's jar and runs it on Java.

The spec for generators is the bundle with three changes, made by one function
(`for_generators`), so that a generator run with its default settings produces a client that
works: no `links` (openapi-generator 7.26.0's validator rejects link `requestBody` objects,
which OpenAPI 3.1 allows, and stops with one error per link; links carry nothing a client
calls); no `uniqueItems` on arrays (typescript-fetch turns such an array into a `Set`,
which serialises as `{}`; the description says instead that items must be unique, and the
server still refuses a repeated one); and a property that a schema excludes with
`not: {required: [...]}` is also declared with bounds no value meets (generators ignore `not`,
so openapi-generator's python client found a body with `userId` and `userIds` valid for both
branches of `UsersRequest`). openapi.yaml/.json are published unchanged.

Longer than 300 lines on purpose: one pipeline of steps that share a temporary folder and
replace dist/ only when all of them worked.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from string import Template
from typing import Any

import yaml

from contract.spec import SPEC_PATH, SpecError
from toolchain.event_schemas import receiving

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
#: The spec for code generators (`for_generators`), beside the bundle in dist/.
GENERATORS_JSON = "openapi.generators.json"
GENERATORS_YAML = "openapi.generators.yaml"
NPM_DIR = ROOT / "npm"
TEMPLATES = Path(__file__).resolve().parent / "publishing"

TS_NPM_NAME = "@workonflow/call-client"
GO_PACKAGE = "workonflowcall"
GIT_USER = "workonflow"
GO_REPO = "call-api-go"
TS_REPO = "call-api-typescript"
# Test stubs of the Go generator need testify and a network to build; they test nothing here.
GENERATOR_GLOBALS = "apiTests=false,modelTests=false"
# Generator leftovers that do not belong in a published package.
DROP = ("git_push.sh", ".travis.yml")

# A <script src=...>, <link href=...> or CSS @import that loads from the network.
REMOTE_ASSET = re.compile(
    r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//"
    r"|@import\s+(?:url\()?\s*[\"']?(?:https?:)?//",
    re.IGNORECASE,
)


class PublishError(Exception):
    """A step of publishing failed; the message says which and why."""


def _run(step: str, argv: Sequence[str], timeout: int = 600) -> str:
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true")
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        raise PublishError(f"{step}: {argv[0]} not found") from exc
    except subprocess.TimeoutExpired as exc:
        raise PublishError(f"{step}: no answer within {timeout} s") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise PublishError(f"{step} failed (exit {done.returncode}):\n{output[-4000:]}")
    return done.stdout


# --- tools -------------------------------------------------------------------------------------


def npm_tool(npm_dir: Path, name: str) -> Path:
    tool = npm_dir / "node_modules" / ".bin" / name
    if not tool.exists():
        raise PublishError(
            f"{name} is not installed in {npm_dir}: run `npm ci --prefix {npm_dir}` "
            "(the nox session does it)"
        )
    return tool


def npm_version(npm_dir: Path, package: str) -> str:
    manifest = npm_dir / "node_modules" / package / "package.json"
    return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])


def generator_cli() -> Path:
    beside = Path(sys.executable).parent / "openapi-generator-cli"
    found = beside if beside.exists() else shutil.which("openapi-generator-cli")
    if not found:
        raise PublishError(
            "openapi-generator-cli is not installed: install the `publish` dependency group "
            "(pip install openapi-generator-cli==7.26.0)"
        )
    return Path(found)


def check_tools(npm_dir: Path) -> None:
    """Fail early, naming what to install, when Node or Java is missing."""
    missing = []
    if shutil.which("node") is None:
        missing.append("Node.js 20 or newer (node, npm)")
    if shutil.which("java") is None:
        missing.append("Java 11 or newer (java), for openapi-generator")
    if missing:
        raise PublishError(
            "publishing needs " + " and ".join(missing) + ": install it, then run again"
        )
    for name in ("redocly", "openapi-typescript"):
        npm_tool(npm_dir, name)
    generator_cli()


# --- steps -------------------------------------------------------------------------------------


def spec_version(bundle_json: Path) -> str:
    return str(json.loads(bundle_json.read_text(encoding="utf-8"))["info"]["version"])


def without_links(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec without links, for openapi-generator's validator."""
    out = copy.deepcopy(document)
    out.get("components", {}).pop("links", None)
    for item in out.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                for response in operation.get("responses", {}).values():
                    if isinstance(response, dict):
                        response.pop("links", None)
    return out


#: Appended to the description of an array whose `uniqueItems` the spec for generators drops.
UNIQUE_NOTE = (
    "Items must be unique: the server refuses an item given twice (the spec for generators"
    " leaves `uniqueItems` out, so that every language keeps this a list)."
)


def _without_unique_items(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("uniqueItems") is True:
            del node["uniqueItems"]
            description = str(node.get("description", "")).rstrip()
            node["description"] = f"{description} {UNIQUE_NOTE}".strip()
        else:
            node.pop("uniqueItems", None)
        for value in node.values():
            _without_unique_items(value)
    elif isinstance(node, list):
        for value in node:
            _without_unique_items(value)


#: A property schema that no value meets (not a string, or a string both empty and not).
NEVER_VALID = {"type": "string", "minLength": 1, "maxLength": 0}


def _exclusions_as_properties(schemas: dict[str, Any]) -> None:
    """`not: {required: [NAME]}` also written as a property NAME that no value meets.

    Both say the same: the object must not have NAME. Generators ignore `not` (openapi-generator's
    python client then finds a body with `userId` and `userIds` valid for both branches of
    `UsersRequest`, "Multiple matches found"), but carry a property's bounds into their models.
    """
    for schema in schemas.values():
        excluded = schema.get("not", {}) if isinstance(schema, dict) else {}
        if set(excluded) - {"required", "properties"}:
            continue  # a `not` that says more than "without these properties"
        for name in excluded.get("required", []):
            schema.setdefault("properties", {})[name] = {
                **NEVER_VALID,
                "description": f"Never valid: a body with `{name}` is not of this schema.",
            }


def for_generators(document: dict[str, Any]) -> dict[str, Any]:
    """The spec for code generators: a copy without links and without `uniqueItems`, where a
    property that a schema excludes with `not` is also a property that no value meets.

    openapi-generator's validator rejects link `requestBody` objects; typescript-fetch maps a
    `uniqueItems` array to a `Set`, which `JSON.stringify` sends as `{}`; generators ignore
    `not` (`_exclusions_as_properties`). Every body valid by one spec is valid by the other.
    """
    out = without_links(document)
    _without_unique_items(out.get("components", {}).get("schemas", {}))
    _without_unique_items(out.get("paths", {}))
    _exclusions_as_properties(out.get("components", {}).get("schemas", {}))
    return out


def remote_assets(html: str) -> list[str]:
    """The script and stylesheet tags and CSS imports of a page that load from the network."""
    return [m.group(0) for m in REMOTE_ASSET.finditer(html)]


def render(template: str, **values: str) -> str:
    return Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(values)


def generate_client(
    cli: Path,
    generator: str,
    spec: Path,
    out: Path,
    *,
    props: dict[str, str],
    extra: Sequence[str] = (),
) -> None:
    argv = [
        str(cli),
        "generate",
        "-g",
        generator,
        "-i",
        str(spec),
        "-o",
        str(out),
        "--global-property",
        GENERATOR_GLOBALS,
        "--additional-properties",
        ",".join(f"{k}={v}" for k, v in props.items()),
        *extra,
    ]
    _run(f"openapi-generator {generator}", argv)
    for name in DROP:
        (out / name).unlink(missing_ok=True)


def add_signing(ts_client: Path, values: dict[str, str]) -> None:
    """Add the bot signature middleware and the webhook receiver to the TypeScript client."""
    source = ts_client / "src"
    for module in ("signing", "webhooks"):
        (source / f"{module}.ts").write_text(render(f"{module}.ts", **values), encoding="utf-8")
        with (source / "index.ts").open("a", encoding="utf-8") as index:
            index.write(f"export * from './{module}';\n")


def event_values(spec: Path) -> dict[str, str]:
    """What the webhook receiver needs from the contract: the window, the events' models (their
    union is the client's: the spec has no schema of it) and the checks of their fields."""
    try:
        facts = receiving(spec)
    except SpecError as exc:
        raise PublishError(f"{spec.name}: {exc}") from exc
    models = [member.class_name for member in facts.events]
    checks = {
        event.event_type: [check.as_json() for check in event.fields] for event in facts.events
    }
    parsers = {member.event_type: f"{member.class_name}FromJSON" for member in facts.events}
    return {
        "max_skew_seconds": str(facts.max_skew_seconds),
        "discriminator": facts.discriminator,
        "event_imports": "".join(f"  {name}FromJSON,\n  type {name},\n" for name in models),
        "event_union": "".join(f"\n  | {name}" for name in models),
        "event_parsers": "".join(f"  {json.dumps(t)}: {p},\n" for t, p in parsers.items()),
        "event_checks": json.dumps(checks, indent=2),
    }


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(dist: Path, version: str, tools: dict[str, str]) -> dict[str, Any]:
    """Every artifact and every file of dist/ with its sha256 (the manifest itself excepted)."""
    files = sorted(
        p
        for p in dist.rglob("*")
        if p.is_file() and p.relative_to(dist).as_posix() != "manifest.json"
    )
    listing: list[dict[str, Any]] = [
        {"path": p.relative_to(dist).as_posix(), "bytes": p.stat().st_size, "sha256": sha256(p)}
        for p in files
    ]
    artifacts = []
    for name, path, kind in (
        ("spec (YAML)", "openapi.yaml", "file"),
        ("spec (JSON)", "openapi.json", "file"),
        ("spec for generators (JSON)", GENERATORS_JSON, "file"),
        ("spec for generators (YAML)", GENERATORS_YAML, "file"),
        ("reference docs", "docs/index.html", "file"),
        ("TypeScript types", "types", "folder"),
        ("TypeScript client", "clients/typescript", "folder"),
        ("Go client", "clients/go", "folder"),
    ):
        if kind == "file":
            entry = next(f for f in listing if f["path"] == path)
            artifacts.append({"name": name, "path": path, "sha256": entry["sha256"]})
        else:
            inside = [f for f in listing if f["path"].startswith(path + "/")]
            # The digest of a folder: sha256 over "<sha256>  <path>\n" of its files, sorted by path.
            tree = "".join(f"{f['sha256']}  {f['path']}\n" for f in inside)
            artifacts.append(
                {
                    "name": name,
                    "path": path + "/",
                    "files": len(inside),
                    "sha256": hashlib.sha256(tree.encode()).hexdigest(),
                }
            )
    return {"specVersion": version, "tools": tools, "artifacts": artifacts, "files": listing}


def publish(out: Path, spec: Path = SPEC_PATH, npm_dir: Path = NPM_DIR) -> dict[str, Any]:
    """Write every artifact into `out` (replacing it only when all steps worked); the manifest."""
    if not spec.is_file():
        raise PublishError(f"{spec}: no such spec file")
    check_tools(npm_dir)
    redocly, openapi_ts = npm_tool(npm_dir, "redocly"), npm_tool(npm_dir, "openapi-typescript")
    cli = generator_cli()
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        dist = work / "dist"
        dist.mkdir()
        _run(
            "redocly bundle (YAML)",
            [str(redocly), "bundle", str(spec), "-o", str(dist / "openapi.yaml")],
        )
        _run(
            "redocly bundle (JSON)",
            [str(redocly), "bundle", str(spec), "--ext", "json", "-o", str(dist / "openapi.json")],
        )
        version = spec_version(dist / "openapi.json")
        tools = {
            "@redocly/cli": npm_version(npm_dir, "@redocly/cli"),
            "openapi-typescript": npm_version(npm_dir, "openapi-typescript"),
            "typescript": npm_version(npm_dir, "typescript"),
            "openapi-generator": importlib.metadata.version("openapi-generator-cli"),
        }

        docs, types = dist / "docs" / "index.html", dist / "types"
        ts_client, go_client = dist / "clients" / "typescript", dist / "clients" / "go"
        # Every generator, ours and a user's, reads the spec for generators.
        generator_spec = dist / GENERATORS_JSON
        document = for_generators(json.loads((dist / "openapi.json").read_text(encoding="utf-8")))
        generator_spec.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        (dist / GENERATORS_YAML).write_text(
            yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100),
            encoding="utf-8",
        )
        bundle = str(dist / "openapi.yaml")
        steps: list[Callable[[], object]] = [
            lambda: _run(
                "redocly build-docs",
                [str(redocly), "build-docs", bundle, "--inlineBundle", "-o", str(docs)],
            ),
            lambda: _run(
                "openapi-typescript",
                [
                    str(openapi_ts),
                    str(generator_spec),
                    # Without it a request field with a `default` (call/start's `direction`)
                    # becomes required: the default is the server's, not the caller's.
                    "--default-non-nullable",
                    "false",
                    "-o",
                    str(types / "schema.d.ts"),
                ],
            ),
            lambda: generate_client(
                cli,
                "typescript-fetch",
                generator_spec,
                ts_client,
                props={"npmName": TS_NPM_NAME, "npmVersion": version, "supportsES6": "true"},
                extra=["--git-user-id", GIT_USER, "--git-repo-id", TS_REPO],
            ),
            lambda: generate_client(
                cli,
                "go",
                generator_spec,
                go_client,
                props={"packageName": GO_PACKAGE, "packageVersion": version},
                extra=["--git-user-id", GIT_USER, "--git-repo-id", GO_REPO],
            ),
        ]
        # The steps are independent processes, each writing its own folder.
        with ThreadPoolExecutor(max_workers=max(1, min(len(steps), os.cpu_count() or 1))) as pool:
            for future in [pool.submit(step) for step in steps]:
                future.result()
        remote = remote_assets(docs.read_text(encoding="utf-8"))
        if remote:
            raise PublishError(f"docs/index.html loads from the network: {remote[:3]}")

        values = {
            "version": version,
            "openapi_typescript": tools["openapi-typescript"],
            "openapi_generator": tools["openapi-generator"],
            "typescript": tools["typescript"],
            "go_package": GO_PACKAGE,
            "go_module": f"github.com/{GIT_USER}/{GO_REPO}",
            **event_values(spec),
        }
        (types / "README.md").write_text(render("types.md", **values), encoding="utf-8")
        (ts_client / "README.md").write_text(
            render("typescript-client.md", **values), encoding="utf-8"
        )
        (go_client / "README.md").write_text(render("go-client.md", **values), encoding="utf-8")
        add_signing(ts_client, values)
        (dist / "README.md").write_text(render("README.md", **values), encoding="utf-8")

        listing = manifest(dist, version, tools)
        (dist / "manifest.json").write_text(json.dumps(listing, indent=2) + "\n", encoding="utf-8")

        if out.exists():
            shutil.rmtree(out)
        dist.rename(out)
        return listing
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m toolchain.publish", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=DIST, help="output folder (default: dist/)")
    parser.add_argument(
        "--spec", type=Path, default=SPEC_PATH, help="the spec (default: openapi.yaml)"
    )
    parser.add_argument("--npm-dir", type=Path, default=NPM_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        listing = publish(args.out, args.spec, args.npm_dir)
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Published Workonflow Call API {listing['specVersion']} into {args.out}:")
    for artifact in listing["artifacts"]:
        files = f" ({artifact['files']} files)" if "files" in artifact else ""
        print(f"  {artifact['path']:<27} sha256 {artifact['sha256']}{files}")
    print(f"  manifest.json               {len(listing['files'])} files listed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

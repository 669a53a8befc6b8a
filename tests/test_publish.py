"""`python -m toolchain.publish` (the publish session): what dist/ holds, and that it works.

Publishing runs once for this module, into a temporary folder. The generated TypeScript
compiles with `tsc --strict` and, run in Node with its `botSignature` middleware, goes through
a whole call on the reference server; the Go client builds where Go is installed, and the docs
page, opened from disk in headless Chromium, renders all twelve operations and the webhooks
(a screenshot is kept in reports/); the types and the client type the events, and the client's
`verifyWebhook` refuses forged deliveries in Node.

Longer than 300 lines on purpose: publishing runs once per module (about 20 s), and every
test of dist/ reads that one run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract import demo
from contract.signing import MAX_SKEW_SECONDS, SIGNATURE_HEADER, TIMESTAMP_HEADER, Bot
from contract.spec import ROOT, follow, load
from reference_server.testing import ServerProcess
from testkit import chromium
from toolchain.compat_clients import TS_OPTIONS, go_build
from toolchain.compat_judging import DRIVERS
from toolchain.publish import remote_assets

NPM_BIN = ROOT / "npm" / "node_modules" / ".bin"
REPORTS = ROOT / "reports"
#: Every `{method}` of the spec.
OPERATIONS = list(load().operations)


def _missing_tools() -> str | None:
    if shutil.which("node") is None or not (NPM_BIN / "redocly").exists():
        return "Node.js and the npm tools (npm ci --prefix npm)"
    if shutil.which("java") is None:
        return "Java (openapi-generator)"
    return None


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = _missing_tools()
    if missing:
        pytest.skip(f"publishing needs {missing}")
    out = tmp_path_factory.mktemp("publish") / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "toolchain.publish", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_manifest_lists_every_file_with_its_sha256(dist: Path) -> None:
    manifest = json.loads((dist / "manifest.json").read_text())
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    assert manifest["specVersion"] == spec["info"]["version"]
    on_disk = {p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file()} - {
        "manifest.json"
    }
    assert {f["path"] for f in manifest["files"]} == on_disk
    for entry in manifest["files"]:
        assert hashlib.sha256((dist / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    paths = {a["path"] for a in manifest["artifacts"]}
    assert paths == {
        "openapi.yaml",
        "openapi.json",
        "openapi.generators.json",
        "openapi.generators.yaml",
        "docs/index.html",
        "types/",
        "clients/typescript/",
        "clients/go/",
    }
    assert set(manifest["tools"]) >= {"@redocly/cli", "openapi-typescript", "openapi-generator"}
    for folder in ("types", "clients/typescript", "clients/go"):
        assert (dist / folder / "README.md").read_text().startswith("# Workonflow Call API")


def test_bundles_are_one_file_each_and_agree(dist: Path) -> None:
    as_yaml = yaml.safe_load((dist / "openapi.yaml").read_text())
    as_json = json.loads((dist / "openapi.json").read_text())
    assert as_yaml == as_json
    ops = [
        (path, method)
        for path, item in as_json["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    ]
    assert sorted(p.removeprefix("/{teamId}/") for p, _ in ops) == sorted(OPERATIONS)
    refs = [line for line in (dist / "openapi.json").read_text().splitlines() if '"$ref"' in line]
    assert refs and all('"#/' in line for line in refs), "a $ref points outside the bundle"


def test_docs_load_nothing_from_the_network(dist: Path) -> None:
    html = (dist / "docs" / "index.html").read_text(encoding="utf-8")
    assert remote_assets(html) == []
    assert "<script" in html and len(html) > 1_000_000, "the Redoc bundle is not inlined"
    # The check itself recognises what it must refuse.
    assert remote_assets('<script src="https://cdn.example/redoc.js"></script>')
    assert remote_assets("<link rel=stylesheet href=//fonts.example/x.css>")
    assert remote_assets("<style>@import url('https://fonts.example/x.css');</style>")


def test_docs_render_all_twelve_operations_in_chromium(dist: Path) -> None:
    page = (dist / "docs" / "index.html").as_uri()
    text = chromium.render(
        page, REPORTS / "docs-chromium.png", size="1400,2200", rendering="Loading..."
    )
    assert f"Workonflow Call API ({load().version})" in text
    missing = [op for op in OPERATIONS if f"post /{{teamid}}/{op}".lower() not in text.lower()]
    assert not missing, f"operations not rendered: {missing}\n{text[:3000]}"
    # The events' tag lists every webhook of the spec under "Webhooks".
    shown = text[text.find("Webhooks") :].lower()
    unshown = [hook for hook in load().document["webhooks"] if f"post {hook}" not in shown]
    assert "Webhooks" in text and not unshown, f"webhooks not rendered: {unshown}\n{text[-2000:]}"


#: The published TypeScript client's `verifyWebhook` on each delivery given as JSON in argv;
#: prints, per delivery, the event it returned or the problem it named.
WEBHOOK_SCENARIO = """
import { WebhookError, verifyWebhook } from "./client";

declare const process: {
  argv: string[];
  exitCode: number;
  stdout: { write(text: string): boolean };
};

async function main(): Promise<void> {
  const [botId, secretKey, now, deliveries] = process.argv.slice(2);
  const results: unknown[] = [];
  for (const { headers, body } of JSON.parse(deliveries)) {
    try {
      const event = await verifyWebhook(headers, body, botId, secretKey, () => Number(now));
      results.push({ event });
    } catch (error) {
      if (!(error instanceof WebhookError)) throw error;
      results.push({ problem: error.problem, message: error.message });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
"""


#: When the deliveries are signed and received, in Unix seconds.
DELIVERED_AT = 1_800_000_000


def webhook_deliveries() -> list[tuple[dict[str, str], str, dict[str, Any]]]:
    """Deliveries signed by `contract.signing`, each with what verifyWebhook must answer."""
    bot, now = Bot(demo.BOT_ID, demo.SECRET_KEY), DELIVERED_AT
    spec = load().document
    cases: list[tuple[dict[str, str], str, dict[str, Any]]] = []
    for item in spec["webhooks"].values():
        content = follow(spec, item["post"]["requestBody"])["content"]["application/json"]
        example = content["examples"]["delivered"]["value"]
        body = json.dumps(example)
        cases.append((bot.headers(body.encode(), now), body, {"event": example}))
    body = json.dumps(example)
    signed = bot.headers(body.encode(), now)
    forged = {
        "missing-header": ({k: v for k, v in signed.items() if k != SIGNATURE_HEADER}, body),
        "unknown-bot": (Bot(demo.THREADS[0], demo.SECRET_KEY).headers(body.encode(), now), body),
        "bad-signature": (Bot(demo.BOT_ID, "not-the-key").headers(body.encode(), now), body),
        "stale-timestamp": (bot.headers(body.encode(), now - MAX_SKEW_SECONDS - 1), body),
        "invalid-timestamp": ({**signed, TIMESTAMP_HEADER: "1e9"}, body),
        "invalid-timestamp (leading zero)": ({**signed, TIMESTAMP_HEADER: f"0{now}"}, body),
        "malformed-event": (
            bot.headers(b'{"eventType":"call.dtmf"}', now),
            '{"eventType":"call.dtmf"}',
        ),
        "unknown-event-type": (
            bot.headers(b'{"eventType":"call.x"}', now),
            '{"eventType":"call.x"}',
        ),
    }
    forged_body = body.replace(example["threadId"], demo.THREADS[1])
    forged["bad-signature (another body)"] = (signed, forged_body)
    for problem, (headers, text) in forged.items():
        cases.append((headers, text, {"problem": problem.split(" ")[0]}))
    return cases


def node_scenario(dist: Path, project: Path, source: str) -> tuple[str, Path]:
    """Node, and `source` compiled beside a copy of the published TypeScript client's sources."""
    node = shutil.which("node")
    assert node is not None  # the dist fixture skips without Node
    shutil.copytree(dist / "clients" / "typescript" / "src", project / "client")
    (project / "scenario.ts").write_text(source)
    (project / "tsconfig.json").write_text(
        json.dumps({"compilerOptions": TS_OPTIONS, "files": ["scenario.ts"]})
    )
    built = _tsc(project)
    assert built.returncode == 0, built.stdout + built.stderr
    return node, project / "out" / "scenario.js"


def test_typescript_client_verifies_webhooks_in_node(dist: Path, tmp_path: Path) -> None:
    node, scenario = node_scenario(dist, tmp_path / "webhooks", WEBHOOK_SCENARIO)
    cases = webhook_deliveries()
    deliveries = json.dumps([{"headers": headers, "body": body} for headers, body, _ in cases])
    now = str(DELIVERED_AT * 1000)  # Date.now() is in milliseconds
    ran = subprocess.run(
        [node, str(scenario), demo.BOT_ID, demo.SECRET_KEY, now, deliveries],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    results = json.loads(ran.stdout)
    assert [
        result if "event" in result else {"problem": result["problem"]} for result in results
    ] == [expected for _, _, expected in cases]
    assert demo.SECRET_KEY not in ran.stdout


def _tsc_each(folder: Path, *names: str) -> dict[str, str]:
    """Type-check the projects `folder/NAME` with one `tsc --build` (the compiler starts once
    for all of them); answer each project's diagnostics by name ("": it type-checks). A
    diagnostic that names a file of no project fails the test."""
    done = subprocess.run(
        [str(NPM_BIN / "tsc"), "--build", "--force", *names],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines: dict[str, list[str]] = {name: [] for name in names}
    owner: list[str] | None = None
    for line in filter(None, done.stdout.splitlines()):
        if not line[0].isspace():  # a diagnostic starts; indented lines go on with it
            name = next((n for n in names if line.startswith(f"{n}/")), None)
            assert name is not None, f"a diagnostic of no project:\n{done.stdout}{done.stderr}"
            owner = lines[name]
        assert owner is not None, done.stdout
        owner.append(line)
    found = {name: "\n".join(found) for name, found in lines.items()}
    assert (done.returncode == 0) == (not any(found.values())), done.stdout + done.stderr
    return found


def _tsc(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NPM_BIN / "tsc"), "-p", str(project)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


USAGE = """
import type { components, operations } from "{types}/schema";
import { CallApi, Configuration, botSignature, type CallEndResponse } from "{client}/src";

type Start = components["schemas"]["CallStartRequest"];
type EndAnswer = operations["callEnd"]["responses"][200]["content"]["application/json"];

export async function demo(): Promise<number> {
  const body: Start = { threadId: "{thread}", direction: "incoming" };
  const api = new CallApi(new Configuration({
    basePath: "http://127.0.0.1:8080",
    middleware: [botSignature("{bot}", "{secret}")],
  }));
  await api.callStart({ teamId: "{team}", callStartRequest: body });
  const ended: CallEndResponse = await api.callEnd({
    teamId: "{team}", threadRequest: { threadId: body.threadId },
  });
  const typed: EndAnswer["data"]["callDuration"] = ended.data.callDuration;
  return typed;
}
"""
#: The events in the types and the client: each webhook's body, and their unions narrowed by
#: `eventType` (the union of the types is made from `webhooks`, the client exports `CallEvent`).
EVENTS_USAGE = """
import type { components, webhooks } from "{types}/schema";
import type { CallEvent } from "{client}/src";

type Dtmf = webhooks["call.dtmf"]["post"]["requestBody"]["content"]["application/json"];
type AnyEvent = webhooks[keyof webhooks]["post"]["requestBody"]["content"]["application/json"];
type Created = components["schemas"]["CallCreatedEvent"];

export const pressed: Dtmf = {
  eventType: "call.dtmf", threadId: "{thread}", streamId: "{thread}", dtmfNumber: "1",
};
export function key(event: AnyEvent, same: CallEvent, created: Created): string {
  if (event.eventType === "call.dtmf") return event.dtmfNumber;
  if (same.eventType === "call.user.held") return same.userId;
  return created.eventType === "call.created" ? event.threadId : "";
}
"""
# Must not compile: a wrong direction, and a missing threadId.
WRONG = """
import type { components } from "{types}/schema";
import type { ThreadRequest } from "{client}/src";
type Start = components["schemas"]["CallStartRequest"];
export const a: Start = { threadId: "x", direction: "sideways" };
export const b: ThreadRequest = {};
"""


def test_typescript_types_and_client_compile_strict(dist: Path, tmp_path: Path) -> None:
    def project(name: str, source: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        values = {
            "{types}": (dist / "types").as_posix(),
            "{client}": (dist / "clients" / "typescript").as_posix(),
            "{thread}": demo.THREADS[0],
            "{team}": demo.TEAM,
            "{bot}": demo.BOT_ID,
            "{secret}": demo.SECRET_KEY,
        }
        code = source
        for placeholder, value in values.items():
            code = code.replace(placeholder, value)
        (folder / "usage.ts").write_text(code)
        (folder / "tsconfig.json").write_text(
            json.dumps(
                {
                    "compilerOptions": {
                        "strict": True,
                        "noEmit": True,
                        "target": "es2020",
                        "module": "es2020",
                        "moduleResolution": "bundler",
                        "lib": ["es2020", "dom"],
                        "skipLibCheck": False,
                    },
                    "files": ["usage.ts"],
                }
            )
        )
        return folder

    project("good", USAGE)
    project("events", EVENTS_USAGE)
    # `dtmfNumber` exists only once the union is narrowed to call.dtmf.
    project("unnarrowed", EVENTS_USAGE.replace('if (event.eventType === "call.dtmf") ', ""))
    project("bad", WRONG)
    found = _tsc_each(tmp_path, "good", "events", "unnarrowed", "bad")
    assert found["good"] == "" and found["events"] == "", found
    assert "dtmfNumber" in found["unnarrowed"], found
    assert '"sideways"' in found["bad"] and "threadId" in found["bad"], found


def test_types_readme_body_type_checks_with_openapi_fetch(dist: Path, tmp_path: Path) -> None:
    """The README's `call/start` body is `{ threadId }`: `direction` has a default and stays
    optional (openapi-typescript runs with `--default-non-nullable false`)."""
    readme = (dist / "types" / "README.md").read_text()
    blocks = [b.split("```")[0] for b in readme.split("```ts\n")[1:]]
    usage = next(b for b in blocks if "openapi-fetch" in b)
    assert 'body: { threadId: "' in usage
    options = {
        "strict": True,
        "noEmit": True,
        "target": "es2022",
        "module": "es2022",
        "moduleResolution": "bundler",
        "lib": ["es2022", "dom"],
        "types": [],
    }
    schema = (dist / "types" / "schema.d.ts").read_text()
    assert "direction?: " in schema
    # Without the option `direction` would be required: the same body must not type-check
    # against types generated that way.
    for name, types in {
        "openapi-fetch": schema,
        "required": schema.replace("direction?: ", "direction: "),
    }.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "schema.d.ts").write_text(types)
        (folder / "node_modules").symlink_to(ROOT / "npm" / "node_modules")
        (folder / "usage.ts").write_text(usage + "export {};\n")
        (folder / "tsconfig.json").write_text(
            json.dumps({"compilerOptions": options, "files": ["usage.ts"]})
        )
    found = _tsc_each(tmp_path, "openapi-fetch", "required")
    assert found["openapi-fetch"] == "", found
    assert "direction" in found["required"], found


#: A whole call with the published TypeScript client, signed by `botSignature`, then a request
#: signed with a wrong secret key; prints what the server answered as JSON.
NODE_SCENARIO = """
import { CallApi, CallUserApi, Configuration, ResponseError, botSignature } from "./client";

declare const process: {
  argv: string[];
  exitCode: number;
  stdout: { write(text: string): boolean };
};

async function main(): Promise<void> {
  const [basePath, teamId, threadId, botId, secretKey, first, second] = process.argv.slice(2);
  const signed = new Configuration({ basePath, middleware: [botSignature(botId, secretKey)] });
  const call = new CallApi(signed);
  const users = new CallUserApi(signed);
  const thread = { threadId };
  const started = await call.callStart({ teamId, callStartRequest: thread });
  const invited = await users.callUserInvite({
    teamId, usersRequest: { ...thread, userIds: [first, second] },
  });
  const paused = await call.callPause({ teamId, usersRequest: { ...thread, userId: first } });
  const unpaused = await call.callUnpause({
    teamId, usersRequest: { ...thread, userIds: [first] },
  });
  const excluded = await users.callUserExclude({
    teamId, usersRequest: { ...thread, userId: second },
  });
  const ended = await call.callEnd({ teamId, threadRequest: thread });
  const wrong = new CallApi(
    new Configuration({ basePath, middleware: [botSignature(botId, secretKey + "-wrong")] }),
  );
  let refused: unknown = "accepted";
  try {
    await wrong.callStart({ teamId, callStartRequest: thread });
  } catch (error) {
    if (!(error instanceof ResponseError)) throw error;
    refused = { status: error.response.status, body: await error.response.json() };
  }
  process.stdout.write(JSON.stringify({
    start: [started.code, started.data.direction],
    invite: invited.data.invitedUsersCount,
    pause: paused.data.pausedUsersCount,
    unpause: unpaused.data.unpausedUsersCount,
    exclude: excluded.data.excludedUsersCount,
    end: ended.data,
    wrongSecret: refused,
  }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
"""


def test_typescript_client_signs_a_whole_call_in_node(dist: Path, tmp_path: Path) -> None:
    node, scenario = node_scenario(dist, tmp_path / "node", NODE_SCENARIO)
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v20."), version.stdout
    ids = [demo.TEAM, demo.THREADS[0], demo.BOT_ID, demo.SECRET_KEY, *demo.USERS[:2]]
    with ServerProcess(["--memory"]) as server:
        ran = subprocess.run(
            [node, str(scenario), server.base_url, *ids],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr + server.output()
    answers = json.loads(ran.stdout)
    assert answers["start"] == [200, "outgoing"]
    assert (answers["invite"], answers["pause"], answers["unpause"], answers["exclude"]) == (
        2,
        1,
        1,
        1,
    )
    end = answers["end"]
    assert 0 <= end["dialogDuration"] <= end["callDuration"]
    assert (end["result"], end["direction"]) == ("answered", "outgoing")
    refused = answers["wrongSecret"]
    assert refused["status"] == 401 and refused["body"]["code"] == 401, refused
    assert demo.SECRET_KEY not in json.dumps(refused)


def test_go_client_builds(dist: Path, tmp_path: Path) -> None:
    if shutil.which("go") is None:
        pytest.skip("Go is not installed on this machine: the Go client is generated, not built")
    # Offline, as the matrix builds it: GOPATH mode, Debian's libraries, the matrix's driver.
    binary = go_build(tmp_path, dist / "clients" / "go", DRIVERS / "go_client.go")
    assert binary.is_file()


def test_a_missing_tool_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from toolchain import publish

    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda n: None if n == "java" else real(n))
    with pytest.raises(publish.PublishError, match=r"needs Java 11 or newer \(java\)"):
        publish.check_tools(publish.NPM_DIR)
    with pytest.raises(publish.PublishError, match="no such spec file"):
        publish.publish(Path("out"), ROOT / "no-such-spec.yaml")


def test_spec_for_generators_drops_links_and_unique_items_and_nothing_else() -> None:
    from toolchain.publish import NEVER_VALID, UNIQUE_NOTE, for_generators

    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    changed = for_generators(spec)
    assert "links" in spec["components"] and "links" not in changed["components"]
    assert "links" not in json.dumps(changed["paths"])
    assert '"uniqueItems": true' in json.dumps(spec)
    assert '"uniqueItems":' not in json.dumps(changed)
    assert changed["components"]["schemas"]["UserIds"]["description"].endswith(UNIQUE_NOTE)
    for document in (spec, changed):
        document["components"].pop("links", None)
        for item in document["paths"].values():
            for response in item["post"]["responses"].values():
                response.pop("links", None)
        user_ids = document["components"]["schemas"]["UserIds"]
        user_ids.pop("uniqueItems", None)
        user_ids["description"] = user_ids["description"].replace(UNIQUE_NOTE, "").strip()
    excluding = changed["components"]["schemas"]["UserListRequest"]["properties"]
    assert excluding.pop("userId").items() >= NEVER_VALID.items()
    assert changed == spec


USER_A, USER_B, THREAD_ID = demo.USERS[0], demo.USERS[1], demo.THREADS[0]


@pytest.mark.parametrize(
    "body",
    [
        {"threadId": THREAD_ID, "userId": USER_A},
        {"threadId": THREAD_ID, "userIds": [USER_A, USER_B]},
        {"threadId": THREAD_ID, "userId": USER_A, "userIds": [USER_B]},
        {"threadId": THREAD_ID},
        {"threadId": THREAD_ID, "userId": "", "userIds": [USER_B]},
        {"threadId": THREAD_ID, "userId": None, "userIds": [USER_B]},
        {"threadId": THREAD_ID, "userId": USER_A.upper(), "userIds": [USER_B]},
        {"threadId": THREAD_ID, "userIds": []},
    ],
    ids=["one", "list", "both", "neither", "empty-id", "null-id", "bad-id", "empty-list"],
)
def test_spec_for_generators_takes_the_same_users_bodies(body: dict[str, object]) -> None:
    """Each branch of `UsersRequest` matches the same bodies in both specs (repeated items
    apart: the generators' spec has no `uniqueItems`), also where `additionalProperties` is
    ignored, as openapi-generator's python client ignores it."""
    from jsonschema import Draft202012Validator

    from toolchain.publish import for_generators

    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())

    def matches(document: dict[str, Any], open_objects: bool) -> list[bool]:
        schemas = json.loads(json.dumps(document["components"]["schemas"]))
        if open_objects:
            for schema in schemas.values():
                schema.pop("additionalProperties", None)
        return [
            Draft202012Validator(
                {"$ref": branch["$ref"], "components": {"schemas": schemas}}
            ).is_valid(body)
            for branch in schemas["UsersRequest"]["oneOf"]
        ]

    for open_objects in (False, True):
        expected = matches(spec, open_objects)
        assert matches(for_generators(spec), open_objects) == expected
        assert sum(expected) <= 1  # the branches exclude each other


def test_published_generators_spec_is_the_transformation_of_the_bundle(dist: Path) -> None:
    from toolchain.publish import for_generators

    bundle = json.loads((dist / "openapi.json").read_text())
    as_json = json.loads((dist / "openapi.generators.json").read_text())
    assert as_json == for_generators(bundle)
    assert yaml.safe_load((dist / "openapi.generators.yaml").read_text()) == as_json
    readme = (dist / "README.md").read_text()
    for name in ("openapi.generators.json", "openapi.json", "links", "uniqueItems"):
        assert name in readme
    # Every array stays an array in the generated TypeScript models: no Set anywhere.
    models = (dist / "clients" / "typescript" / "src" / "models").glob("*.ts")
    assert not [p.name for p in models if "Set<" in p.read_text()]
    user_list = dist / "clients" / "typescript" / "src" / "models" / "UserListRequest.ts"
    assert "userIds: Array<string>;" in user_list.read_text()

"""The reference server as a process: SIGKILL and restart, clean stops, the command line."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")

from contract import demo
from contract.signing import Bot
from reference_server.testing import ServerProcess
from testkit.signing import DEMO_BOT, OTHER_BOT, BotAuth

TEAM = demo.TEAM
USERS = [demo.user(n) for n in range(8)]


def post(
    server: ServerProcess,
    method: str,
    body: dict[str, Any],
    *,
    team: str = TEAM,
    bot: Bot = DEMO_BOT,
) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/{team}/{method}", json=body, timeout=10, auth=BotAuth(bot)
    )


def test_a_killed_server_keeps_every_answered_call(tmp_path: Path) -> None:
    database = tmp_path / "calls.sqlite3"
    thread = demo.THREADS[0]
    # Many threads, each answered once: every one of them must outlive the SIGKILL.
    threads = [demo.thread(n) for n in range(200)]
    with ServerProcess(["--database", str(database), "--quiet"]) as server:
        assert (
            post(server, "call/start", {"threadId": thread, "direction": "incoming"}).status_code
            == 200
        )
        invite = post(server, "call.user/invite", {"threadId": thread, "userIds": USERS[:3]})
        assert invite.json()["data"] == {"invitedUsersCount": 3}
        assert (
            post(server, "call/pause", {"threadId": thread, "userId": USERS[0]}).status_code == 200
        )
        assert post(server, "call.recording/start", {"threadId": thread}).status_code == 200
        assert post(server, "call.stream/start", {"threadId": thread}).status_code == 200
        with httpx.Client(base_url=server.base_url, auth=BotAuth(), timeout=10) as client:
            for other in threads:
                answer = client.post(f"/{TEAM}/call/start", json={"threadId": other})
                assert answer.status_code == 200
        server.kill()  # right after the last answer: no shutdown, no checkpoint
        assert server.process is not None and server.process.returncode == -signal.SIGKILL

    with ServerProcess(["--database", str(database), "--quiet"]) as server:
        assert post(server, "call/start", {"threadId": thread}).status_code == 409
        again = post(server, "call.user/invite", {"threadId": thread, "userIds": USERS[:4]})
        assert again.json()["data"] == {"invitedUsersCount": 1}
        unpause = post(server, "call/unpause", {"threadId": thread, "userIds": USERS[:3]})
        assert unpause.json()["data"] == {"unpausedUsersCount": 1}
        assert post(server, "call.recording/start", {"threadId": thread}).status_code == 409
        stop = post(server, "call.recording/stop", {"threadId": thread})
        assert stop.status_code == 200
        file_url = stop.json()["data"]["fileUrl"]
        assert file_url.startswith(server.base_url + "/recordings/")
        assert httpx.get(file_url, timeout=10).status_code == 200
        assert post(server, "call.stream/start", {"threadId": thread}).status_code == 409
        end = post(server, "call/end", {"threadId": thread}).json()["data"]
        assert end["result"] == "answered" and end["direction"] == "incoming"
        assert 0 <= end["dialogDuration"] <= end["callDuration"]
        with httpx.Client(base_url=server.base_url, auth=BotAuth(), timeout=10) as client:
            lost = [
                other
                for other in threads
                if client.post(f"/{TEAM}/call/start", json={"threadId": other}).status_code != 409
            ]
        assert lost == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_server_stops_cleanly_on_a_signal(tmp_path: Path, sig: int) -> None:
    database = tmp_path / "calls.sqlite3"
    with ServerProcess(["--database", str(database)]) as server:
        assert post(server, "call/start", {"threadId": USERS[0]}).status_code == 200
        assert server.stop(sig) == 0
        output = server.output()
    assert output.rstrip().endswith(f"stopped ({signal.Signals(sig).name})")
    # One log line per request, with its status.
    assert f'"POST /{TEAM}/call/start" 200' in output
    # Closed cleanly: the last connection checkpointed the WAL into the database file.
    assert not Path(f"{database}-wal").exists() or Path(f"{database}-wal").stat().st_size == 0
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM calls").fetchone() == (1,)


#: Bots given on the command line, each with its own secret key (none of them the demo's).
ALPHA = Bot("5c0e5996e43fb4001acfb0a1", "alpha-secret-key-9d1f")
BETA = Bot("5c0e5996e43fb4001acfb0b2", "beta;secret")  # `;` is fine in an option
GAMMA = OTHER_BOT


def test_bots_come_from_the_environment_and_the_options() -> None:
    other = demo.OTHER_TEAM
    env = {**os.environ, "WORKONFLOW_BOTS": f" {ALPHA.bot_id}={ALPHA.secret_key}:{TEAM} ; "}
    env["WORKONFLOW_BOTS"] += f"\n{GAMMA.bot_id}={GAMMA.secret_key}:{other},{TEAM}"
    args = ["--memory", "--bot", f"{BETA.bot_id}={BETA.secret_key}:{other}"]
    with ServerProcess(args, env=env) as server:
        output = server.output()
        assert f"bot {ALPHA.bot_id} in team {TEAM}\n" in output
        assert f"bot {BETA.bot_id} in team {other}\n" in output
        assert f"bot {GAMMA.bot_id} in teams {', '.join(sorted([TEAM, other]))}\n" in output
        assert DEMO_BOT.bot_id not in output
        assert "in memory" in output
        body = {"threadId": USERS[1]}
        assert post(server, "call/start", body).status_code == 401  # the demo bot is not there
        assert post(server, "call/start", body, bot=ALPHA).status_code == 200
        assert post(server, "call/start", body, bot=BETA).status_code == 403
        assert post(server, "call/start", body, team=other, bot=BETA).status_code == 200
        assert post(server, "call/start", {"threadId": USERS[2]}, bot=GAMMA).status_code == 200
        assert post(server, "call/end", body, team=other, bot=GAMMA).status_code == 200


def test_the_default_bot_is_printed_at_start() -> None:
    env = {k: v for k, v in os.environ.items() if k != "WORKONFLOW_BOTS"}
    with ServerProcess(["--memory"], env=env) as server:
        output = server.output()
        assert f"bot {demo.BOT_ID} in team {TEAM} (the demo bot;" in output
        assert "secret key is the one in the README" in output
        assert demo.SECRET_KEY not in output
        assert post(server, "call/start", {"threadId": USERS[2]}).status_code == 200


def test_no_secret_key_is_ever_printed(tmp_path: Path) -> None:
    """Not at start, not in the access log, not for refused requests, not on errors."""
    secrets = [ALPHA.secret_key, BETA.secret_key, GAMMA.secret_key]
    bots = [f"{bot.bot_id}={bot.secret_key}:{TEAM}" for bot in (ALPHA, BETA, GAMMA)]
    env = {**os.environ, "WORKONFLOW_BOTS": bots[0]}
    args = ["--database", str(tmp_path / "calls.sqlite3"), "--bot", bots[1], "--bot", bots[2]]
    with ServerProcess(args, env=env) as server:
        thread = {"threadId": USERS[3]}
        wrong_key = Bot(ALPHA.bot_id, BETA.secret_key)
        answers = [
            post(server, "call/start", thread, bot=ALPHA),  # 200
            post(server, "call/start", thread, bot=BETA),  # 409
            post(server, "call/start", thread, bot=wrong_key),  # 401
            post(server, "call/start", thread, bot=Bot(DEMO_BOT.bot_id, ALPHA.secret_key)),
            post(server, "call/start", thread, team=demo.OTHER_TEAM, bot=GAMMA),  # 403
            post(server, "call/start", {"threadId": "x"}, bot=GAMMA),  # 400
            httpx.post(f"{server.base_url}/{TEAM}/call/start", json=thread, timeout=10),
            httpx.post(
                f"{server.base_url}/{TEAM}/call/start",
                json=thread,
                timeout=10,
                auth=BotAuth(GAMMA, skew=-3600),
            ),
        ]
        assert [answer.status_code for answer in answers] == [
            200,
            409,
            401,
            401,
            403,
            400,
            401,
            401,
        ]
        for answer in answers:
            assert not any(secret in answer.text for secret in secrets)
        server.stop()
        output = server.output()
    assert output.count(f'"POST /{TEAM}/call/start"') == 7  # the access log was written
    assert not any(secret in output for secret in secrets)
    # Refused at start: the messages name the bot and the problem, never the secret.
    alpha = ALPHA.secret_key
    for bad in (
        f"{bots[0]}x",
        bots[0].replace("=", ":"),
        bots[0].replace(":", "="),
        f"{alpha}={ALPHA.bot_id}:{TEAM}",  # the secret where the bot id goes
        f"{ALPHA.bot_id}=x:{alpha}",  # ... where the teams go
        f"{ALPHA.bot_id}={alpha}:{alpha},{TEAM}",
    ):
        result = _run(["--bot", bad], env="")
        assert result.returncode == 2
        assert not any(secret in result.stdout + result.stderr for secret in secrets)
    result = _run(["--help"], env=" ".join(bots))
    assert result.returncode == 0
    assert not any(secret in result.stdout + result.stderr for secret in secrets)


def _run(args: list[str], env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "WORKONFLOW_BOTS": env}
    return subprocess.run(
        [sys.executable, "-m", "reference_server", "--port", "0", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
        env=environment,
    )


BOT = f"{demo.BOT_ID}=secret"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--bot", "nothing"], "", "--bot 1: a bot is given as BOT_ID=SECRET:TEAM[,TEAM]"),
        (["--bot", f"{BOT}:{TEAM}", "--bot", f"{BOT}"], "", "--bot 2: a bot is given as"),
        (["--bot", f"{BOT}:{TEAM.upper()}"], "", f"--bot 1: team 1 of bot {demo.BOT_ID}"),
        (["--bot", f"{BOT}:{TEAM},x"], "", f"--bot 1: team 2 of bot {demo.BOT_ID}"),
        (["--bot", f"{demo.BOT_ID}=:{TEAM}"], "", "secret key of bot"),
        (["--bot", f"BOT=secret:{TEAM}"], "", "--bot 1: the bot id (before '=') is not"),
        ([], f"{BOT}:{TEAM};{BOT}:team", "WORKONFLOW_BOTS item 2: team 1 of bot"),
        ([], f"{BOT}:{TEAM} {BOT}:{TEAM}", f"bot {demo.BOT_ID} is given twice"),
        (["--bot", f"{BOT}:{TEAM}"], f"{BOT}:{TEAM}", "is given twice"),
        (["--memory", "--database", "x.sqlite3"], "", "not allowed with argument"),
        (["--database", "/nonexistent-dir/x.sqlite3"], "", "cannot open the database"),
        (["--port", "99999"], "", "cannot listen"),
    ],
)
def test_bad_options_exit_2_with_a_message(args: list[str], env: str, message: str) -> None:
    result = _run(args, env)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()[-1]) < 200  # one line naming the problem

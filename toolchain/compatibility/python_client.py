"""Driver: this project's Python client (`generated/client`, `CallApi`), signing with its own
`BotSignature`; the other media type is set by an httpx request hook, after the signature."""

from __future__ import annotations

from typing import Any

import httpx
from workonflow_call import CallApi, CallApiError

from toolchain.compatibility.common import Run


def _error(error: BaseException) -> tuple[int | None, int | None]:
    if isinstance(error, CallApiError):
        return error.status, error.code
    return None, None  # refused before sending (TypeError, ValueError)


def main() -> None:
    run = Run.from_argv()
    thread, idle, other = run.threads
    first, second, third = run.users

    def seen(request: httpx.Request) -> None:
        run.last_sent = request.content

    def text_plain(request: httpx.Request) -> None:
        request.headers["Content-Type"] = "text/plain"

    def api(secret_key: str = run.secret_key, *hooks: Any) -> CallApi:
        return CallApi(
            run.base_url,
            bot_id=run.bot_id,
            secret_key=secret_key,
            team_id=run.team,
            httpx_args={"event_hooks": {"request": [*hooks, seen]}},
        )

    with (
        api() as signed,
        api(run.secret_key + "-wrong") as wrong,
        api(run.secret_key, text_plain) as plain,
    ):
        steps: list[tuple[str, Any]] = [
            ("start", lambda: signed.call.start(thread_id=thread)),
            (
                "invite userIds",
                lambda: signed.call_user.invite(thread_id=thread, user_ids=[first, second]),
            ),
            (
                "invite userId and userIds",
                lambda: signed.call_user.invite(thread_id=thread, user_id=third, user_ids=[first]),
            ),
            ("pause userId", lambda: signed.call.pause(thread_id=thread, user_id=first)),
            ("unpause userIds", lambda: signed.call.unpause(thread_id=thread, user_ids=[first])),
            (
                "exclude userId",
                lambda: signed.call_user.exclude(thread_id=thread, user_id=second),
            ),
            ("recording start", lambda: signed.call_recording.start(thread_id=thread)),
            ("recording stop", lambda: signed.call_recording.stop(thread_id=thread)),
            ("end", lambda: signed.call.end(thread_id=thread)),
            (
                "409 invite with no active call",
                lambda: signed.call_user.invite(thread_id=idle, user_id=first),
            ),
            ("401 wrong signature", lambda: wrong.call.start(thread_id=other)),
            (
                "400 repeated user id",
                lambda: signed.call_user.invite(thread_id=thread, user_ids=[first, first]),
            ),
            ("400 neither userId nor userIds", lambda: signed.call_user.invite(thread_id=thread)),
            ("415 text/plain body", lambda: plain.call.start(thread_id=other)),
        ]
        for name, send in steps:
            run.record_model(name, send, _error)
    run.report()


if __name__ == "__main__":
    main()

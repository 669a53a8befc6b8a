"""The client's runtime modules on their own: `Retry-After` read as seconds or an HTTP date, the
exponential backoff with jitter, which outcomes the retry policy sends again, and the options
of a call.

Nothing here sends a request: the policy is a pure function of the outcome, the attempt, its
options, an injected jitter and an injected clock.
(tests/test_client_retries.py drives them through real connections.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

pytest.importorskip("workonflow_call", reason="the generated client is not installed")

from workonflow_call import AsyncCallApi, RetryPolicy
from workonflow_call.retrying import ANSWER_LOST, NOT_CARRIED_OUT, retry_after_seconds
from workonflow_call.runtime import CallOptions

NOW = 1_800_000_000.0


def http_date(seconds: float) -> str:
    return format_datetime(datetime.fromtimestamp(seconds, UTC), usegmt=True)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 2.5 ", 2.5),
        # An HTTP date, in GMT or as `-0000` (read as UTC).
        (http_date(NOW + 42), 42.0),
        (format_datetime(datetime.fromtimestamp(NOW + 42, UTC).replace(tzinfo=None)), 42.0),
        # What a lying or broken server sends asks for no wait at all.
        (None, None),
        ("", None),
        ("0", None),
        ("-5", None),
        ("soon", None),
        ("inf", None),
        ("nan", None),
        (http_date(NOW - 3600), None),  # a date in the past
    ],
)
def test_retry_after_in_seconds_or_as_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds


def policy(**options: object) -> RetryPolicy:
    return RetryPolicy(jitter=lambda: 0.0, clock=lambda: NOW, **options)  # type: ignore[arg-type]


def test_backoff_doubles_up_to_its_ceiling_and_jitter_takes_off_at_most_half() -> None:
    plain = policy(base_delay=0.5, max_delay=3.0, max_retries=6)
    assert [plain.backoff(retry) for retry in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    most = RetryPolicy(base_delay=0.5, jitter=lambda: 0.999999)
    assert 0.25 <= most.backoff(1) < 0.2501
    assert policy(base_delay=10.0, max_wait=4.0).backoff(1) == 4.0  # never past max_wait


@pytest.mark.parametrize("status", sorted(NOT_CARRIED_OUT))
def test_answers_that_say_not_carried_out_are_retried_as_asked(status: int) -> None:
    retries = policy(max_retries=2, max_wait=60.0)
    assert retries.wait_after_answer(status, "7", 1) == 7.0
    assert retries.wait_after_answer(status, None, 2) == 1.0  # no wait named: the backoff
    assert retries.wait_after_answer(status, "-1", 1) == 0.5  # a negative wait: the backoff
    assert retries.wait_after_answer(status, http_date(NOW - 10), 1) == 0.5  # a past date
    assert retries.wait_after_answer(status, "86400", 1) == 60.0  # capped
    assert retries.wait_after_answer(status, "1", 3) is None  # out of retries
    assert policy(max_retries=0).wait_after_answer(status, "1", 1) is None


@pytest.mark.parametrize("status", sorted(ANSWER_LOST))
def test_lost_answers_are_retried_only_when_the_caller_says_the_call_may_repeat(
    status: int,
) -> None:
    assert policy().wait_after_answer(status, "1", 1) is None
    assert policy(retry_lost_answers=True).wait_after_answer(status, "1", 1) == 1.0


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 409, 413, 415, 500, 501])
def test_other_answers_are_never_retried(status: int) -> None:
    assert policy(retry_lost_answers=True).wait_after_answer(status, "1", 1) is None


REQUEST = httpx.Request("POST", "http://127.0.0.1/team/call/start")


@pytest.mark.parametrize(
    ("error", "not_sent"),
    [
        (httpx.ConnectError("refused", request=REQUEST), True),
        (httpx.ConnectTimeout("slow", request=REQUEST), True),
        (httpx.PoolTimeout("busy", request=REQUEST), True),
        (httpx.ReadError("reset", request=REQUEST), False),
        (httpx.WriteError("reset", request=REQUEST), False),
        (httpx.ReadTimeout("slow", request=REQUEST), False),
        (httpx.RemoteProtocolError("disconnected", request=REQUEST), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_a_transport_error_is_retried_when_the_request_was_not_sent(
    error: httpx.TransportError, not_sent: bool
) -> None:
    assert (policy().wait_after_error(error, 1) is not None) is not_sent
    assert policy(retry_lost_answers=True).wait_after_error(error, 1) == 0.5
    assert policy(retry_lost_answers=True).wait_after_error(error, 3) is None


def test_bad_options_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError, match="max_wait"):
        RetryPolicy(max_wait=-1.0)


def test_call_options_add_headers_and_a_timeout_to_an_endpoints_request() -> None:
    kwargs = {"method": "post", "url": "/t/call/start", "headers": {"Content-Type": "a/b"}}
    assert CallOptions().request_arguments(kwargs) is kwargs  # nothing to add: as it is
    options = CallOptions(timeout=httpx.Timeout(3.0), headers={"X-Trace": "1"})
    arguments = options.request_arguments(kwargs)
    assert arguments["headers"] == {"Content-Type": "a/b", "X-Trace": "1"}
    assert arguments["timeout"] == httpx.Timeout(3.0)
    assert kwargs["headers"] == {"Content-Type": "a/b"}  # the endpoint's own stay untouched


def test_with_options_refuses_a_bad_option_by_name_and_keeps_what_is_not_given() -> None:
    async_api = AsyncCallApi(
        "http://127.0.0.1:9", bot_id="b" * 24, secret_key="s", team_id="t" * 24, max_retries=4
    )
    with pytest.raises(ValueError, match="max_retries"):
        async_api.with_options(max_retries=-1)
    derived = async_api.with_options(headers={"X-Trace": "1"})
    assert derived.client is async_api.client and derived.call._api is derived
    assert derived._options.policy.max_retries == 4
    assert derived.with_options(timeout=5)._options.headers == {"X-Trace": "1"}
    assert async_api._options.headers == {}

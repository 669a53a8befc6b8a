"""The reference server's webhook client: how it reads answers, pipelines, and fails."""

from __future__ import annotations

import asyncio

import pytest

from reference_server.webhook_client import (
    WebhookClient,
    WebhookError,
    _answer,
    check_url,
    shown_url,
)
from testkit.receiver import Receiver


def answer_of(wire: bytes) -> tuple[int, bool]:
    async def read() -> tuple[int, bool]:
        reader = asyncio.StreamReader()
        reader.feed_data(wire)
        reader.feed_eof()
        return await _answer(reader)

    return asyncio.run(read())


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (b"HTTP/1.1 204 No Content\r\n\r\n", (204, True)),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", (200, True)),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", (200, False)),
        (b"HTTP/1.1 202 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", (202, True)),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n",
            (500, True),
        ),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", (200, False)),
        (b"HTTP/1.1 200 OK\r\n\r\nbody until the end", (200, False)),
    ],
)
def test_an_answer_is_read_to_its_end(wire: bytes, expected: tuple[int, bool]) -> None:
    assert answer_of(wire) == expected


def test_what_is_not_http_is_no_answer() -> None:
    with pytest.raises(WebhookError, match=r"not an HTTP/1\.x answer"):
        answer_of(b"SSH-2.0-OpenSSH\r\n\r\n")


def test_pipelined_posts_get_their_answers_in_order() -> None:
    with Receiver() as receiver:
        client = WebhookClient(receiver.url, timeout=10)
        bodies = [b'{"n":1}', b'{"n":2}', b'{"n":3}']
        statuses = asyncio.run(client.post_all([(body, [("X-Test", "1")]) for body in bodies]))
        assert statuses == [204, 204, 204]
        assert [attempt.body for attempt in receiver.attempts] == bodies
        assert receiver.attempts[0].headers["x-test"] == "1"


def test_no_receiver_means_no_answer_for_any() -> None:
    with Receiver() as receiver:
        url = receiver.url
    client = WebhookClient(url, timeout=10)  # nobody listens there any more
    assert asyncio.run(client.post_all([(b"{}", []), (b"{}", [])])) == [None, None]
    assert client.error


def test_urls_are_checked_and_shown_without_secrets() -> None:
    assert (
        shown_url("https://user:pw@hook.test:8443/in?token=s3cret") == "https://hook.test:8443/in"
    )
    with pytest.raises(ValueError, match="control characters"):
        check_url("http://hook.test/a\r\nX-Injected: 1")
    with pytest.raises(ValueError, match=r"an http:// or https:// URL is needed"):
        check_url("hook.test/in")

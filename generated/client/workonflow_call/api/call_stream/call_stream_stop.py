# Generated from openapi.yaml version 2.4.0. Do not edit.
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.ok_response import OkResponse
from ...models.thread_request import ThreadRequest
from ...types import Response


def _get_kwargs(
    team_id: str,
    *,
    body: ThreadRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/{team_id}/call.stream/stop".format(
            team_id=quote(str(team_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | OkResponse | None:
    if response.status_code == 200:
        response_200 = OkResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorResponse.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ErrorResponse.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorResponse.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ErrorResponse.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ErrorResponse.from_dict(response.json())

        return response_415

    if response.status_code == 429:
        response_429 = ErrorResponse.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ErrorResponse.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorResponse | OkResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    team_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: ThreadRequest,
) -> Response[ErrorResponse | OkResponse]:
    """Stop streaming the call

     Stops the stream of the thread's call. Without a stream under way: `409`.

    Args:
        team_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId,
            as in every example of the source document).
        body (ThreadRequest): The thread whose call the operation acts on.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | OkResponse]
    """

    kwargs = _get_kwargs(
        team_id=team_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def _parse_success(*, client: AuthenticatedClient | Client, response: httpx.Response) -> OkResponse:
    if not (response.status_code == 200):
        raise errors.CallApiError.from_response(response.status_code, response.content, response)
    try:
        parsed = _parse_response(client=client, response=response)
    except (KeyError, TypeError, ValueError) as exc:
        raise errors.CallApiError(
            response.status_code,
            f"The answer does not match the API description: {exc!r}",
            content=response.content,
            response=response,
        ) from exc
    if not isinstance(parsed, OkResponse):
        raise errors.CallApiError.from_response(response.status_code, response.content, response)
    return parsed


def sync(
    team_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: ThreadRequest,
) -> OkResponse:
    """Stop streaming the call

    Stops the stream of the thread's call. Without a stream under way: `409`.

    Args:
        team_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId,
            as in every example of the source document).
        body (ThreadRequest): The thread whose call the operation acts on.

    Raises:
        errors.CallApiError: The server answered with an error envelope or an unexpected status.
        httpx.HTTPError: The request failed (connection, timeout).

    Returns:
        OkResponse
    """

    kwargs = _get_kwargs(
        team_id=team_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _parse_success(client=client, response=response)


async def asyncio_detailed(
    team_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: ThreadRequest,
) -> Response[ErrorResponse | OkResponse]:
    """Stop streaming the call

     Stops the stream of the thread's call. Without a stream under way: `409`.

    Args:
        team_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId,
            as in every example of the source document).
        body (ThreadRequest): The thread whose call the operation acts on.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | OkResponse]
    """

    kwargs = _get_kwargs(
        team_id=team_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    team_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: ThreadRequest,
) -> OkResponse:
    """Stop streaming the call

    Stops the stream of the thread's call. Without a stream under way: `409`.

    Args:
        team_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId,
            as in every example of the source document).
        body (ThreadRequest): The thread whose call the operation acts on.

    Raises:
        errors.CallApiError: The server answered with an error envelope or an unexpected status.
        httpx.HTTPError: The request failed (connection, timeout).

    Returns:
        OkResponse
    """

    kwargs = _get_kwargs(
        team_id=team_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _parse_success(client=client, response=response)

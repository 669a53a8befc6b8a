# Generated from openapi.yaml version 2.4.0. Do not edit.
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.call_pause_response import CallPauseResponse
from ...models.error_response import ErrorResponse
from ...models.single_user_request import SingleUserRequest
from ...models.user_list_request import UserListRequest
from ...types import Response


def _get_kwargs(
    team_id: str,
    *,
    body: SingleUserRequest | UserListRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/{team_id}/call/pause".format(
            team_id=quote(str(team_id), safe=""),
        ),
    }

    if isinstance(body, SingleUserRequest):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CallPauseResponse | ErrorResponse | None:
    if response.status_code == 200:
        response_200 = CallPauseResponse.from_dict(response.json())

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
) -> Response[CallPauseResponse | ErrorResponse]:
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
    body: SingleUserRequest | UserListRequest,
) -> Response[CallPauseResponse | ErrorResponse]:
    """Put users of the call on pause

     Puts one user (`userId`) or several (`userIds`) of the active call on pause. One of the
    two must be given; when both are, `userIds` is ignored. The answer counts the named
    users who were in the call and not yet paused. Without an active call: `409`.

    Args:
        team_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId,
            as in every example of the source document).
        body (SingleUserRequest | UserListRequest): The thread, and either `userId` or `userIds`
            (the source document requires one of the two). A body with both is a `SingleUserRequest`
            (and never a `UserListRequest`, which excludes `userId`); a body with neither is invalid.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CallPauseResponse | ErrorResponse]
    """

    kwargs = _get_kwargs(
        team_id=team_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def _parse_success(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CallPauseResponse:
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
    if not isinstance(parsed, CallPauseResponse):
        raise errors.CallApiError.from_response(response.status_code, response.content, response)
    return parsed


def sync(
    team_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: SingleUserRequest | UserListRequest,
) -> CallPauseResponse:
    """Put users of the call on pause

    Puts one user (`userId`) or several (`userIds`) of the active call on pause. One of the
    two must be given; when both are, `userIds` is ignored. The answer counts the named
    users who were in the call and not yet paused. Without an active call: `409`.

    Args:
        team_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId,
            as in every example of the source document).
        body (SingleUserRequest | UserListRequest): The thread, and either `userId` or `userIds`
            (the source document requires one of the two). A body with both is a `SingleUserRequest`
            (and never a `UserListRequest`, which excludes `userId`); a body with neither is invalid.

    Raises:
        errors.CallApiError: The server answered with an error envelope or an unexpected status.
        httpx.HTTPError: The request failed (connection, timeout).

    Returns:
        CallPauseResponse
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
    body: SingleUserRequest | UserListRequest,
) -> Response[CallPauseResponse | ErrorResponse]:
    """Put users of the call on pause

     Puts one user (`userId`) or several (`userIds`) of the active call on pause. One of the
    two must be given; when both are, `userIds` is ignored. The answer counts the named
    users who were in the call and not yet paused. Without an active call: `409`.

    Args:
        team_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId,
            as in every example of the source document).
        body (SingleUserRequest | UserListRequest): The thread, and either `userId` or `userIds`
            (the source document requires one of the two). A body with both is a `SingleUserRequest`
            (and never a `UserListRequest`, which excludes `userId`); a body with neither is invalid.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CallPauseResponse | ErrorResponse]
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
    body: SingleUserRequest | UserListRequest,
) -> CallPauseResponse:
    """Put users of the call on pause

    Puts one user (`userId`) or several (`userIds`) of the active call on pause. One of the
    two must be given; when both are, `userIds` is ignored. The answer counts the named
    users who were in the call and not yet paused. Without an active call: `409`.

    Args:
        team_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId,
            as in every example of the source document).
        body (SingleUserRequest | UserListRequest): The thread, and either `userId` or `userIds`
            (the source document requires one of the two). A body with both is a `SingleUserRequest`
            (and never a `UserListRequest`, which excludes `userId`); a body with neither is invalid.

    Raises:
        errors.CallApiError: The server answered with an error envelope or an unexpected status.
        httpx.HTTPError: The request failed (connection, timeout).

    Returns:
        CallPauseResponse
    """

    kwargs = _get_kwargs(
        team_id=team_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _parse_success(client=client, response=response)

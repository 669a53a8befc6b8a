# Generated from openapi.yaml version 2.4.0. Do not edit.

"""A client library for accessing Workonflow Call API"""

from .api import AsyncCallApi, BotSignature, CallApi
from .client import AuthenticatedClient, Client
from .errors import (
    CallApiError,
    Conflict,
    ErrorDetail,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    Unauthorized,
    UnsupportedMediaType,
)
from .retrying import RetryPolicy

__version__ = "2.4.0"

__all__ = (
    "AsyncCallApi",
    "AuthenticatedClient",
    "BotSignature",
    "CallApi",
    "CallApiError",
    "Client",
    "Conflict",
    "ErrorDetail",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "Unauthorized",
    "UnsupportedMediaType",
)

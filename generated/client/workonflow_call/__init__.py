# Generated from openapi.yaml version 1.0.0. Do not edit.

"""A client library for accessing Workonflow Call API"""

from .api import AsyncCallApi, CallApi
from .client import AuthenticatedClient, Client
from .errors import CallApiError, ErrorDetail

__version__ = "1.0.0"

__all__ = (
    "AsyncCallApi",
    "AuthenticatedClient",
    "CallApi",
    "CallApiError",
    "Client",
    "ErrorDetail",
)

"""The routes of the reference server, built from the operations of the spec.

Each `Operation` of `contract.spec` becomes a `Route`: its path (the `{method}` after
`/{teamId}/`), its HTTP method, the validator of its request schema (by the schema's name)
and its handler (by operationId). Nothing here lists operations: an operation that the spec
gains is routed as soon as the spec has it, and answers `501` until a handler is written
for it. A result's values become the fields of `data` that the spec names for the operation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contract.spec import Operation, Spec

from . import validation
from .handlers import HANDLERS, Handler, Result, snake_case

Validator = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Route:
    """One operation of the spec, and what the server does with it."""

    operation: Operation
    #: None: the server has no handler for the operation (or no validator for its body).
    handler: Handler | None
    validator: Validator | None

    @property
    def implemented(self) -> bool:
        return self.handler is not None and self.validator is not None

    def data(self, result: Result) -> dict[str, Any] | None:
        """The `data` of the answer: the result's values under the spec's field names."""
        fields = self.operation.data_fields
        if result is None:
            if fields:
                raise TypeError(f"{self.operation.method}: the spec gives data {fields}, got none")
            return None
        return {wire: getattr(result, name) for wire, name in _names(type(result), fields)}


_NAMES: dict[tuple[type, tuple[str, ...]], tuple[tuple[str, str], ...]] = {}


def _names(kind: type, fields: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    names = _NAMES.get((kind, fields))
    if names is None:
        names = _NAMES[kind, fields] = _match(kind, fields)
    return names


def _match(kind: type, fields: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(field of `data`, attribute of the result) pairs, in the spec's order.

    The attributes are the fields in snake_case (`callDuration`: `call_duration`); a result of
    one value is the operation's one field, whatever the spec calls it (`invitedUsersCount`).
    """
    attributes = [field.name for field in dataclasses.fields(kind)]
    if len(attributes) == 1 and len(fields) == 1:
        return ((fields[0], attributes[0]),)
    if sorted(map(snake_case, fields)) != sorted(attributes):
        raise TypeError(f"{kind.__name__} {attributes} does not match the spec's data {fields}")
    return tuple((field, snake_case(field)) for field in fields)


class Router:
    """The routes of every operation of `spec`, by the path after `/{teamId}/`."""

    def __init__(self, spec: Spec, handlers: Mapping[str, Handler] = HANDLERS) -> None:
        self.spec = spec
        self.routes: dict[bytes, Route] = {}
        for operation in spec.operations.values():
            schema = operation.request_schema
            validator = validation.VALIDATORS.get(schema) if schema is not None else None
            handler = handlers.get(operation.operation_id)
            self.routes[operation.method.encode()] = Route(operation, handler, validator)

    def route(self, method_path: bytes) -> Route | None:
        return self.routes.get(method_path)

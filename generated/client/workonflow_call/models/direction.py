# Generated from openapi.yaml version 2.4.0. Do not edit.
from typing import Literal

Direction = Literal["incoming", "outgoing"]

DIRECTION_VALUES: set[Direction] = {
    "incoming",
    "outgoing",
}


def check_direction(value: str) -> Direction:
    if value in DIRECTION_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {DIRECTION_VALUES!r}")

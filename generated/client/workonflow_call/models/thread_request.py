# Generated from openapi.yaml version 2.4.0. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ThreadRequest")


@_attrs_define
class ThreadRequest:
    """The thread whose call the operation acts on.

    Attributes:
        thread_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example
            of the source document).
    """

    thread_id: str

    def to_dict(self) -> dict[str, Any]:
        thread_id = self.thread_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "threadId": thread_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        thread_id = d.pop("threadId")

        thread_request = cls(
            thread_id=thread_id,
        )

        return thread_request

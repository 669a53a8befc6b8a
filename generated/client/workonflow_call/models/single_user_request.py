# Generated from openapi.yaml version 2.4.0. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SingleUserRequest")


@_attrs_define
class SingleUserRequest:
    """One user, by `userId`. A `userIds` given beside it is ignored, as the source document says (it must still be a valid
    list).

        Attributes:
            thread_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example
                of the source document).
            user_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of
                the source document).
            user_ids (list[str] | Unset): Several users, by id. Not in the source document: at least one, at most 100, no id
                twice.
    """

    thread_id: str
    user_id: str
    user_ids: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        thread_id = self.thread_id

        user_id = self.user_id

        user_ids: list[str] | Unset = UNSET
        if not isinstance(self.user_ids, Unset):
            user_ids = self.user_ids

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "threadId": thread_id,
                "userId": user_id,
            }
        )
        if user_ids is not UNSET:
            field_dict["userIds"] = user_ids

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        thread_id = d.pop("threadId")

        user_id = d.pop("userId")

        user_ids = cast(list[str], d.pop("userIds", UNSET))

        single_user_request = cls(
            thread_id=thread_id,
            user_id=user_id,
            user_ids=user_ids,
        )

        return single_user_request

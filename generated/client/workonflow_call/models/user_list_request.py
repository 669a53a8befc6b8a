# Generated from openapi.yaml version 2.4.0. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="UserListRequest")


@_attrs_define
class UserListRequest:
    """Several users, by `userIds`. A body that also has `userId` is a `SingleUserRequest` (the source document ignores
    `userIds` then), so this schema says `not` required `userId`: the two branches of `UsersRequest` exclude each other
    by their own constraints, also for generators that do not honour `additionalProperties: false`.

        Attributes:
            thread_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example
                of the source document).
            user_ids (list[str]): Several users, by id. Not in the source document: at least one, at most 100, no id twice.
    """

    thread_id: str
    user_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        thread_id = self.thread_id

        user_ids = self.user_ids

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "threadId": thread_id,
                "userIds": user_ids,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        thread_id = d.pop("threadId")

        user_ids = cast(list[str], d.pop("userIds"))

        user_list_request = cls(
            thread_id=thread_id,
            user_ids=user_ids,
        )

        return user_list_request

# Generated from openapi.yaml version 2.4.0. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="CallAudioPlayRequest")


@_attrs_define
class CallAudioPlayRequest:
    """Play an audio file into the call of a thread.

    Attributes:
        thread_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example
            of the source document).
        file_url (str): The http(s) URL of the file to play; its path ends in `.mp3` or `.wav`, in any case. Not in the
            source document: at most 2048 characters, printable ASCII only (other characters are percent-encoded, as RFC
            3986 asks). The pattern names its character ranges instead of using `\\s`, which regex engines read differently.
    """

    thread_id: str
    file_url: str

    def to_dict(self) -> dict[str, Any]:
        thread_id = self.thread_id

        file_url = self.file_url

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "threadId": thread_id,
                "fileUrl": file_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        thread_id = d.pop("threadId")

        file_url = d.pop("fileUrl")

        call_audio_play_request = cls(
            thread_id=thread_id,
            file_url=file_url,
        )

        return call_audio_play_request

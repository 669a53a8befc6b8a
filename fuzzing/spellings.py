"""The ways a forged signature header is written, and the digests a forged signature is made
with: named, so that a reproduction (`python -m fuzzing sign --spell HEADER=NAME`) makes the
same forgery again, at the time it runs, without the secret key ever being written down.

- `SPELLINGS`: a header's value written otherwise: in another case, one character more or
  less, empty, with spaces, and for a timestamp in another unit, sign or notation.
- `DIGESTS`: a digest of the concatenated inputs other than the lowercase hex SHA-256 the
  contract asks for (`contract.signing`): another hash function, HMAC with the key.
- `INPUTS`: the inputs of the signature, in the contract's order and words.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from base64 import b64encode
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Spelling:
    """A way to write a header's value otherwise, and how a violation names it."""

    label: str
    change: Callable[[str], str]


def _middle(text: str) -> int:
    return len(text) // 2


def _changed_last(text: str) -> str:
    """`text` with its last character changed (another value of the same form)."""
    if not text:
        return "0"
    return text[:-1] + ("0" if text[-1] != "0" else "1")


def _iso_8601(text: str) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(text)))


#: Spellings of any header's text: its case, its length, whitespace.
TEXT: Final = {
    "upper": Spelling("in upper case", str.upper),
    "lower": Spelling("in lower case", str.lower),
    "longer": Spelling("one character more (a 0 appended)", lambda t: t + "0"),
    "shorter": Spelling("one character less (the last one dropped)", lambda t: t[:-1]),
    "empty": Spelling("empty", lambda _t: ""),
    "space-inside": Spelling(
        "with a space inside", lambda t: f"{t[: _middle(t)]} {t[_middle(t) :]}"
    ),
    # Not part of the value: RFC 9110 strips whitespace around a field's value.
    "spaced": Spelling("surrounded by spaces", lambda t: f" {t} "),
}
#: The name in `TEXT` of the one spelling that leaves the value as it is (HTTP drops the
#: spaces around it): a request spelled so, signed over the value, must be accepted.
SAME_VALUE: Final = "spaced"
#: Spellings of the bot's id: another id of the same form.
BOT_ID: Final = {
    "another": Spelling("another valid-looking id (its last character changed)", _changed_last),
}
#: Spellings of the time in whole Unix seconds: other units, signs, notations, far values.
TIMESTAMP: Final = {
    "milliseconds": Spelling("in milliseconds", lambda t: t + "000"),
    "microseconds": Spelling("in microseconds", lambda t: t + "000000"),
    "fraction": Spelling("with a fraction of a second (.5)", lambda t: t + ".5"),
    "zero-fraction": Spelling("with a zero fraction (.0)", lambda t: t + ".0"),
    "leading-zero": Spelling("with a leading zero", lambda t: "0" + t),
    "plus": Spelling("with a plus sign", lambda t: "+" + t),
    "negative": Spelling("negative (a minus sign)", lambda t: "-" + t),
    "hexadecimal": Spelling("in hexadecimal (0x)", lambda t: hex(int(t))),
    "iso-8601": Spelling("as an ISO 8601 date", _iso_8601),
    "zero": Spelling("0, the epoch", lambda _t: "0"),
    "far-past": Spelling("1, far in the past", lambda _t: "1"),
    "far-future": Spelling(
        f"{2**31}, far in the future (past the 32-bit limit)", lambda _t: str(2**31)
    ),
}
#: Spellings of the lowercase hex digest: parts of it, other alphabets.
SIGNATURE: Final = {
    "half": Spelling("its first half", lambda t: t[: _middle(t)]),
    "non-hex": Spelling("its last character a non-hex g", lambda t: t[:-1] + "g"),
    "base64": Spelling("the digest in base64", lambda t: b64encode(bytes.fromhex(t)).decode()),
}
#: Every spelling by its name, as `python -m fuzzing sign --spell HEADER=NAME` takes it.
SPELLINGS: Final[Mapping[str, Spelling]] = {**TEXT, **BOT_ID, **TIMESTAMP, **SIGNATURE}

#: The inputs of the signature, in the contract's order: `botId + secretkey + timestamp + body`.
INPUTS: Final = ("botId", "secretkey", "timestamp", "body")
#: The digest the contract asks for.
PROPER_DIGEST: Final = "sha256"


def _hashed(name: str) -> Callable[[bytes, bytes], str]:
    return lambda _key, message: hashlib.new(name, message).hexdigest()


#: Digests of the concatenated inputs, by name: `(key, message) -> text`. The key is the
#: secret key; only HMAC takes it apart from the message (whose inputs then leave it out).
DIGESTS: Final[Mapping[str, Callable[[bytes, bytes], str]]] = {
    PROPER_DIGEST: _hashed("sha256"),
    "sha1": _hashed("sha1"),
    "sha512": _hashed("sha512"),
    "sha3_256": _hashed("sha3_256"),
    "hmac-sha256": lambda key, message: hmac.new(key, message, hashlib.sha256).hexdigest(),
}
#: How a violation names each digest.
DIGEST_LABELS: Final = {
    "sha1": "SHA-1 instead of SHA-256",
    "sha512": "SHA-512 instead of SHA-256",
    "sha3_256": "SHA3-256 instead of SHA-256",
    "hmac-sha256": "HMAC-SHA256 keyed with the secret key, of botId + timestamp + body",
}
#: The digest that takes the secret key as its key, not as an input.
KEYED: Final = "hmac-sha256"

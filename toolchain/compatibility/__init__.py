"""Drivers of the compatibility matrix (`python -m toolchain.compat`): one per client a user
might pick, each in the client's own language, each signing its requests itself.

Every driver takes one argument, a JSON object `{baseUrl, teamId, botId, secretKey, threads,
users}`, runs the steps of `STEPS` in order against that server and prints one JSON object:
`{"steps": [{"name", "status", "code", "data", "error", "sent"}, ...]}` (`status` the HTTP
status or null when the client refused before sending, `data` the answer's `data` with the
spec's field names, `error` the first line of what the client raised, `sent` the body as sent
where the driver can see it). `toolchain.compat` judges the steps, against the answers the
contract model expects for `LIFECYCLE_REQUESTS` (`toolchain.compat_judging`).
"""

from __future__ import annotations

#: The steps every driver runs, in order: a whole call on threads[0], then the error cases.
STEPS = (
    "start",
    "invite userIds",
    "invite userId and userIds",
    "pause userId",
    "unpause userIds",
    "exclude userId",
    "recording start",
    "recording stop",
    "end",
    "409 invite with no active call",
    "401 wrong signature",
    "400 repeated user id",
    "400 neither userId nor userIds",
    "415 text/plain body",
)

#: The request of each step of the whole call, as every driver sends it on `threads[0]`: the
#: operation and the body's fields besides `threadId`, a user given as its index in `users`.
LIFECYCLE_REQUESTS: dict[str, tuple[str, dict[str, int | list[int]]]] = {
    "start": ("call/start", {}),
    "invite userIds": ("call.user/invite", {"userIds": [0, 1]}),
    "invite userId and userIds": ("call.user/invite", {"userId": 2, "userIds": [0]}),
    "pause userId": ("call/pause", {"userId": 0}),
    "unpause userIds": ("call/unpause", {"userIds": [0]}),
    "exclude userId": ("call.user/exclude", {"userId": 1}),
    "recording start": ("call.recording/start", {}),
    "recording stop": ("call.recording/stop", {}),
    "end": ("call/end", {}),
}

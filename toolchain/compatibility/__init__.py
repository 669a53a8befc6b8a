"""Drivers of the compatibility matrix (`python -m toolchain.compat`): one per client a user
might pick, each in the client's own language, each signing its requests itself.

Every driver takes one argument, a JSON object `{baseUrl, teamId, botId, secretKey, threads,
users}`, runs the steps of `STEPS` in order against that server and prints one JSON object:
`{"steps": [{"name", "status", "code", "data", "error", "sent"}, ...]}` (`status` the HTTP
status or null when the client refused before sending, `data` the answer's `data` with the
spec's field names, `error` the first line of what the client raised, `sent` the body as sent
where the driver can see it). `toolchain.compat` judges the steps.
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

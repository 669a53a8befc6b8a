"""The security part of the breaking-change gate: `SecurityDiffer().changes(base, head)`.

Optic compares parameters, bodies and responses but not `security` or
`components.securitySchemes`: replacing the bearer token by bot signatures (contract 2.0.0)
showed up as no change at all. This differ judges what a client built on the base sends.

An operation's security (its own `security`, else the document's) is a list of alternatives,
each a set of schemes that must all be satisfied. A scheme is compared by what it puts on the
wire (`type`, `in`, `name`, `scheme`, ...), not by its name, so renaming one changes nothing.
A base alternative still works when some head alternative needs no more than it: a request
that satisfied it is still accepted. A base alternative that no longer works breaks clients
(the head asks for a header, a query parameter or a credential they do not send); an added
alternative or a dropped requirement does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolchain.changes import Change, Reason, load_document

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: What identifies a scheme on the wire; descriptions and the like are left out.
WIRE_FIELDS = ("type", "in", "name", "scheme", "openIdConnectUrl")
RULE = "security requirement not met"

Scheme = tuple[tuple[str, str], ...]


class SecurityDiffer:
    """Changes to the security an operation requires, judged for clients built on the base."""

    name = "security"

    def changes(self, base: Path, head: Path) -> list[Change]:
        return security_changes(load_document(base), load_document(head))


def _schemes(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    return {name: scheme for name, scheme in schemes.items() if isinstance(scheme, dict)}


def wire(scheme: dict[str, Any]) -> Scheme:
    """What a scheme asks a client to send, as a comparable value."""
    fields = {key: str(scheme[key]) for key in WIRE_FIELDS if key in scheme}
    if fields.get("type") == "http" and "scheme" in fields:  # auth schemes ignore case
        fields["scheme"] = fields["scheme"].lower()
    if fields.get("in") == "header" and "name" in fields:  # so do header names
        fields["name"] = fields["name"].lower()
    if fields.get("type") == "oauth2":
        fields["flows"] = repr(sorted((scheme.get("flows") or {}).items()))
    return tuple(sorted(fields.items()))


def describe(name: str, scheme: dict[str, Any]) -> str:
    """`bearerAuth (http bearer)`, `botId (apiKey header X-Bot-Id)`."""
    kind = scheme.get("type", "?")
    if kind == "apiKey":
        return f"{name} (apiKey {scheme.get('in', '?')} {scheme.get('name', '?')})"
    if kind == "http":
        return f"{name} (http {scheme.get('scheme', '?')})"
    return f"{name} ({kind})"


def _alternatives(
    requirement: Any, schemes: dict[str, dict[str, Any]]
) -> list[tuple[frozenset[tuple[Scheme, tuple[str, ...]]], str]]:
    """Each alternative as the set of (scheme on the wire, scopes) it needs, and its text."""
    found = []
    for alternative in requirement if isinstance(requirement, list) else []:
        needs = set()
        names = []
        for name, scopes in (alternative or {}).items():
            scheme = schemes.get(name, {"type": f"undefined scheme {name}"})
            needs.add((wire(scheme), tuple(sorted(scopes or []))))
            names.append(describe(name, scheme))
        found.append((frozenset(needs), " + ".join(names) or "no credentials"))
    return found


def _operations(document: dict[str, Any]) -> dict[str, Any]:
    """Each operation (`POST /path`) and the security it requires (None: none declared)."""
    default = document.get("security")
    operations = {}
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            operation = (item or {}).get(method)
            if isinstance(operation, dict):
                operations[f"{method.upper()} {path}"] = operation.get("security", default)
    return operations


def security_changes(base: dict[str, Any], head: dict[str, Any]) -> list[Change]:
    """The security changes of every operation in both documents, and of the schemes."""
    base_schemes, head_schemes = _schemes(base), _schemes(head)
    changes = []
    head_operations = _operations(head)
    for operation, base_requirement in _operations(base).items():
        if operation not in head_operations:
            continue  # a removed operation is the other differ's to report
        head_requirement = head_operations[operation]
        before = _alternatives(base_requirement, base_schemes)
        after = _alternatives(head_requirement, head_schemes)
        # No security at all accepts any request: the same as one empty alternative.
        before = before or [(frozenset(), "no credentials")]
        after = after or [(frozenset(), "no credentials")]
        if [needs for needs, _ in before] == [needs for needs, _ in after]:
            continue
        detail = " or ".join(text for _, text in before) + " -> "
        detail += " or ".join(text for _, text in after)
        change = Change(operation, "security", "", "changed", detail=detail)
        for needs, text in before:
            if not any(head_needs <= needs for head_needs, _ in after):
                change.reasons.append(Reason(RULE, f"a request with {text} is refused"))
        changes.append(change)
    changes += scheme_changes(base_schemes, head_schemes)
    return changes


def scheme_changes(
    base: dict[str, dict[str, Any]], head: dict[str, dict[str, Any]]
) -> list[Change]:
    """Schemes added, removed or changed on the wire; the operations' lines say what breaks."""
    changes = []
    for name in sorted(base.keys() | head.keys()):
        old, new = base.get(name), head.get(name)
        if old is not None and new is not None:
            if wire(old) != wire(new):
                detail = f"{describe(name, old)} -> {describe(name, new)}"
                changes.append(
                    Change("components", "securitySchemes", name, "changed", detail=detail)
                )
        elif old is not None:
            changes.append(Change("components", "securitySchemes", describe(name, old), "removed"))
        elif new is not None:
            changes.append(Change("components", "securitySchemes", describe(name, new), "added"))
    return changes

"""The generated packages' modules that no generator renders: the call events' union and receiver.

The generators render a fixed set of files; a module of our own is a Jinja template under
`overrides/client/modules/` (the client's `webhooks.py`, the receiver of the call events) or
`overrides/models/modules/` (the models' `events.py`, their discriminated union), rendered here
into the package with what it needs from the contract: the events of the spec's webhooks, the
checks of their fields and the spec's time window, `x-max-skew-seconds`
(`toolchain.event_schemas`), and the signature headers of `contract.signing`. A field
constraint the receiver cannot check fails the generation.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from contract import signing
from contract.spec import SpecError
from toolchain.event_schemas import EVENT_UNION, anchored, receiving
from toolchain.generated_files import GenerationError


def render_modules(spec: Path, modules: Path, package: Path) -> None:
    """Render every `*.py.jinja` of `modules` into `package` (a generated file stays intact)."""
    try:
        facts = receiving(spec)
    except SpecError as exc:
        raise GenerationError(f"{spec.name}: {exc}") from exc
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(modules),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    environment.filters["py"] = repr
    environment.filters["anchored"] = anchored
    values = {
        "discriminator": facts.discriminator,
        "events": facts.events,
        "union": EVENT_UNION,
        "headers": signing.HEADERS,
        "max_skew_seconds": facts.max_skew_seconds,
    }
    for template in sorted(modules.glob("*.py.jinja")):
        target = package / template.name.removesuffix(".jinja")
        if target.exists():
            raise GenerationError(f"{template} would replace the generated {target.name}")
        target.write_text(environment.get_template(template.name).render(values), "utf-8")

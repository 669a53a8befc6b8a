"""A reader for Workonflow's own description of the Call API (docs/source/call-api.md).

The document is informal Markdown: one `### method` section per operation, a bold Russian title,
a parameter table, JavaScript-flavoured body examples (comments, trailing commas) and a response
example whose `data` may use shorthand (`{ direction }`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "docs" / "source" / "call-api.md"


@dataclass
class SourceOperation:
    method: str
    title: str
    fields: dict[str, str] = field(default_factory=dict)  # field -> type, as the table says
    body_examples: list[dict[str, object]] = field(default_factory=list)
    response_data_keys: list[str] = field(default_factory=list)


def _lenient_json(text: str) -> dict[str, object]:
    """Parse the source's JavaScript-ish JSON: drop `//` comments and trailing commas."""
    text = re.sub(r"(?<=\s)//[^\n]*", "", text)  # a comment, not the `//` of a URL
    text = re.sub(r",\s*([}\]])", r"\1", text)
    parsed: dict[str, object] = json.loads(text)
    return parsed


def _alternative_bodies(example: str) -> list[dict[str, object]]:
    """`"userId": "…" // or "userIds": [ … ]` stands for two bodies: one per alternative."""
    bodies = [_lenient_json(example)]
    for line in example.splitlines():
        match = re.match(
            r'(\s*)"(\w+)":\s*("[^"]*")\s*,?\s*//\s*or\s+"(\w+)":\s*(\[.*\])\s*$', line
        )
        if match:
            indent, _, _, other_key, other_value = match.groups()
            alternative = example.replace(line, f'{indent}"{other_key}": {other_value}')
            bodies.append(_lenient_json(alternative))
    return bodies


def read_source(path: Path = SOURCE) -> list[SourceOperation]:
    """Every `###` section of the source, in order (a method described twice appears twice)."""
    text = path.read_text(encoding="utf-8")
    operations = []
    for section in re.split(r"^### ", text, flags=re.MULTILINE)[1:]:
        method, _, body = section.partition("\n")
        title = re.search(r"^\*\*(.+?)\*\*\s*$", body, re.MULTILINE)
        assert title, f"no bold title in the section of {method}"
        operation = SourceOperation(method=method.strip(), title=title.group(1).strip())
        for row in re.finditer(r"^\|\s*(\w+)\s*\|\s*(\w+)\s*\|", body, re.MULTILINE):
            name, type_ = row.groups()
            if name != "field":
                operation.fields[name] = type_
        examples = re.search(r"\*\*Body message example:\*\*\s*```json\n(.*?)```", body, re.DOTALL)
        assert examples, f"no body example in the section of {method}"
        operation.body_examples = _alternative_bodies(examples.group(1))
        response = re.search(r"\*\*Response example:\*\*\s*```js\n(.*?)```", body, re.DOTALL)
        assert response, f"no response example in the section of {method}"
        data = re.search(r"data:\s*\{(.*)\}\s*\}", response.group(1))
        if data:
            items = data.group(1).split(",")
            keys = (re.match(r"\s*(\w+)", item) for item in items)
            operation.response_data_keys = [key.group(1) for key in keys if key is not None]
        operations.append(operation)
    return operations

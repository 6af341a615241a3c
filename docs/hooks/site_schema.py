"""MkDocs hook: the site-file schema page, generated from the pydantic model at build time.

``docs/reference/schema.md`` holds the marker ``<!-- site-schema -->``; this hook replaces it with
one table per section of the site file (from ``dispatch.site.site_json_schema()``, exactly what
``dispatch schema`` prints) and the JSON Schema itself, so the page can never drift from the code.
"""

from __future__ import annotations

import json
from typing import Any

MARKER = "<!-- site-schema -->"
PAGE = "reference/schema.md"
ROOT = "Site"


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _link(name: str) -> str:
    return f"[{name}](#{name.lower()})"


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _type(spec: dict[str, Any]) -> str:
    """A field's type in words: links for nested sections, bounds and choices spelt out."""
    if "$ref" in spec:
        return _link(_ref_name(spec["$ref"]))
    if "anyOf" in spec or "oneOf" in spec:
        options = spec.get("anyOf", spec.get("oneOf", []))
        return " or ".join(_type(s) for s in options if s.get("type") != "null")
    if "const" in spec:
        return f"`{json.dumps(spec['const'])}`"
    if "enum" in spec:
        return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in spec["enum"])
    kind = spec.get("type", "any")
    if kind == "array":
        if "prefixItems" in spec:
            return "[" + ", ".join(_type(s) for s in spec["prefixItems"]) + "]"
        return "list of " + _type(spec.get("items", {}))
    bounds = []
    for key, symbol in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
    ):
        if key in spec:
            bounds.append(f"{symbol} {_number(spec[key])}")
    if "pattern" in spec:
        bounds.append(f"matching `{spec['pattern']}`")
    if "maxLength" in spec:
        bounds.append(f"at most {spec['maxLength']} characters")
    return kind + (" " + ", ".join(bounds) if bounds else "")


def _default(name: str, spec: dict[str, Any], required: set[str]) -> str:
    if name in required:
        return "**required**"
    if "default" not in spec:
        return ""
    value = spec["default"]
    return "none" if value is None else f"`{json.dumps(value)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _order(schema: dict[str, Any]) -> list[str]:
    """Sections in the order a reader meets them: breadth-first from the site file's top."""
    definitions = schema.get("$defs", {})
    seen: list[str] = [ROOT]
    queue = [schema]
    while queue:
        node = queue.pop(0)
        found: list[str] = []

        def collect(value: Any, found: list[str] = found) -> None:
            if isinstance(value, dict):
                if "$ref" in value:
                    found.append(_ref_name(value["$ref"]))
                for inner in value.values():
                    collect(inner)
            elif isinstance(value, list):
                for inner in value:
                    collect(inner)

        collect(node.get("properties", {}))
        for name in found:
            if name not in seen:
                seen.append(name)
                queue.append(definitions[name])
    return seen + sorted(set(definitions) - set(seen))


def schema_markdown(schema: dict[str, Any]) -> str:
    """One table per section of the site file, then the JSON Schema in a collapsed block."""
    definitions = {ROOT: schema, **schema.get("$defs", {})}
    parts = []
    for name in _order(schema):
        model = definitions[name]
        parts.append(f"## {name}\n")
        if description := model.get("description"):
            parts.append(" ".join(description.split()) + "\n")
        if model.get("additionalProperties") is not False:
            parts.append("Keys not listed here are allowed.\n")
        required = set(model.get("required", []))
        parts.append("| field | type | default | description |\n| --- | --- | --- | --- |")
        for field, spec in model.get("properties", {}).items():
            row = (
                f"`{field}`",
                _type(spec),
                _default(field, spec, required),
                spec.get("description", ""),
            )
            parts.append("| " + " | ".join(_cell(c) for c in row) + " |")
        parts.append("")
    source = json.dumps(schema, indent=2)
    parts.append('??? note "The JSON Schema, as `dispatch schema` prints it"\n')
    parts.append("    ```json\n" + "\n".join("    " + line for line in source.splitlines()))
    parts.append("    ```\n")
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Fill the schema page; every other page passes through."""
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        from mkdocs.exceptions import PluginError

        raise PluginError(f"{PAGE} lost its marker {MARKER}")
    from dispatch.site import site_json_schema

    return markdown.replace(MARKER, schema_markdown(site_json_schema()))

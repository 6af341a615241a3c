"""Reading a YAML file the user wrote: strict where PyYAML is lenient, one line per problem.

* A key given twice in one mapping is an error naming the key and both lines (PyYAML keeps the
  last silently). Merge keys (``<<: *defaults``) may still be overridden: that is their purpose.
* Nesting deeper than :data:`MAX_DEPTH` is refused before PyYAML's recursive composer could
  exhaust the stack (a site file nests about six levels).
* The text must be UTF-8 (a byte-order mark is allowed) and at most :data:`MAX_BYTES` long.
* An empty or comment-only file is named as such, not as "found NoneType".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node

from dispatch.errors import InputError

MAX_DEPTH = 50
MAX_BYTES = 1 << 20  # a site file is a few KB; a year of daily DR events is ~100 KB
MERGE_TAG = "tag:yaml.org,2002:merge"


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys and deep nesting, and reads ``1e3`` as
    the number it is (YAML 1.2; PyYAML's YAML 1.1 wants ``1.0e+3`` and makes ``1e3`` a
    string)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(
                    None,
                    None,
                    f"nested more than {MAX_DEPTH} levels deep",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: PyYAML's own check names it
                continue
            if first is not None:
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first on line {first + 1}); give each key once",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def read_text(path: str | Path, what: str = "site file") -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), at most :data:`MAX_BYTES`."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise InputError(f"{path}: cannot read {what} ({error.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"{path}: larger than {MAX_BYTES:,} bytes; is it a {what}?")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start}); "
            f"save the {what} as UTF-8"
        ) from None


def parse_yaml(text: str, source: str) -> object:
    """Parse YAML text with :class:`StrictLoader`; any problem is one line naming the source
    and line. An empty or comment-only text is an error."""
    try:
        loader = StrictLoader(text)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = " ".join(str(error.problem or error.context or "invalid").split())
        raise InputError(f"{source}{where}: not valid YAML: {problem}") from None
    except yaml.YAMLError as error:
        raise InputError(f"{source}: not valid YAML: {' '.join(str(error).split())}") from None
    if data is None:
        raise InputError(f"{source}: the file is empty (blank or only comments)")
    return data


StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)

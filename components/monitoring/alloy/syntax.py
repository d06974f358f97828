"""A tiny typed renderer for the Alloy configuration syntax (blocks, attributes, values, expressions).

Values are rendered from Python data, never by pasting text: strings are always quoted and escaped,
identifiers are validated, and the only way to write raw expression text is `Expr`, whose constructors
(`ref`, `call`, `concat`) validate what they build.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


@dataclass(frozen=True)
class Expr:
    """Expression text produced by `ref`, `call` or `concat`; do not build it from untrusted strings."""

    text: str


AlloyValue: TypeAlias = (
    str | int | float | bool | Expr | Sequence["AlloyValue"] | Mapping[str, "AlloyValue"] | None
)


def is_identifier(name: str) -> bool:
    return bool(_IDENT.fullmatch(name))


def _require_identifier(name: str, what: str) -> str:
    if not is_identifier(name):
        raise ValueError(
            f"{what} must be an Alloy identifier (letters, digits, _; not starting with a digit): {name!r}"
        )
    return name


def _require_dotted(name: str, what: str) -> str:
    for part in name.split("."):
        _require_identifier(part, what)
    return name


def quote(value: str) -> str:
    """An Alloy string literal. Every escape used is also valid JSON, which the tests rely on."""
    out: list[str] = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def ref(path: str) -> Expr:
    """A reference to a component export, e.g. `ref("discovery.docker.containers.targets")`."""
    return Expr(_require_dotted(path, "reference"))


def call(function: str, *args: AlloyValue) -> Expr:
    """A function call such as `call("sys.env", "NODE_NAME")` -> `sys.env("NODE_NAME")`."""
    return Expr(f"{_require_dotted(function, 'function name')}({', '.join(render_value(a) for a in args)})")


def concat(*parts: AlloyValue) -> Expr:
    """String concatenation with `+`."""
    if len(parts) < 2:
        raise ValueError("concat needs at least two parts")
    return Expr(" + ".join(render_value(p) for p in parts))


def render_value(value: AlloyValue) -> str:
    if isinstance(value, Expr):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Alloy has no literal for {value!r}")
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, Mapping):
        items = [f"{k if is_identifier(k) else quote(k)} = {render_value(v)}" for k, v in value.items()]
        return "{" + ", ".join(items) + "}" if items else "{}"
    return "[" + ", ".join(render_value(v) for v in value) + "]"


@dataclass(frozen=True)
class Attribute:
    name: str
    value: AlloyValue

    def __post_init__(self) -> None:
        _require_identifier(self.name, "attribute name")


@dataclass(frozen=True)
class Block:
    """`name "label" { body }`; `name` may be dotted (`loki.source.docker`), `label` is an identifier."""

    name: str
    label: str | None = None
    body: tuple[Attribute | Block, ...] = ()

    def __post_init__(self) -> None:
        _require_dotted(self.name, "block name")
        if self.label is not None:
            _require_identifier(self.label, "block label")


def _render_body(body: Sequence[Attribute | Block], depth: int) -> list[str]:
    indent = "\t" * depth
    lines: list[str] = []
    for i, item in enumerate(body):
        if isinstance(item, Attribute):
            lines.append(f"{indent}{item.name} = {render_value(item.value)}")
            continue
        if i and lines and lines[-1] != "":
            lines.append("")
        header = item.name if item.label is None else f"{item.name} {quote(item.label)}"
        if not item.body:
            lines.append(f"{indent}{header} {{ }}")
        else:
            lines.append(f"{indent}{header} {{")
            lines.extend(_render_body(item.body, depth + 1))
            lines.append(f"{indent}}}")
        if depth == 0:
            lines.append("")
    return lines


def render_alloy(body: Sequence[Attribute | Block]) -> str:
    """A whole Alloy file: top-level blocks separated by blank lines, tab-indented like `alloy fmt`."""
    text = "\n".join(_render_body(body, 0)).rstrip("\n")
    return text + "\n"

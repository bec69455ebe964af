"""The OData filter subset that Table queries use, evaluated in Python for :class:`MemoryStore`.

Parameters are substituted the way the Azure SDK does it (``@name`` words, split on spaces),
then the text is parsed and evaluated against an entity, so a filter that works in memory is
spelt the way the service expects. Supported: ``eq ne gt ge lt le``, ``and or not``,
parentheses, and string, integer, float, boolean, ``datetime'...'`` and ``guid'...'`` literals.
As in Table storage, a comparison with a property the entity lacks, or of a different type, is
false.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))"
    r"|(?P<typed>(?:datetime|guid|X|binary)'(?:[^']|'')*')"
    r"|(?P<string>'(?:[^']|'')*')"
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?L?)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}
_MISSING = object()


def substitute(query_filter: str, parameters: dict[str, Any] | None) -> str:
    """``@name`` words replaced by literals, exactly as the Azure SDK's substitution does."""
    if not parameters:
        return query_filter
    words = query_filter.split(" ")
    for index, word in enumerate(words):
        if word and word[0] == "@":
            words[index] = _literal(parameters[word[1:]])
    return " ".join(words)


def _literal(value: Any) -> str:
    if value is True or value is False:
        return str(value).lower()
    if isinstance(value, float):
        return str(value)
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 32 else f"{value}L"
    if isinstance(value, datetime):
        return f"datetime'{value.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}'"
    if isinstance(value, UUID):
        return f"guid'{value}'"
    if isinstance(value, bytes):
        return f"X'{value.hex()}'"
    escaped = value.replace("'", "''")
    return f"'{escaped}'"


def compile_filter(query_filter: str) -> Predicate:
    """A predicate over entities; ``ValueError`` for text outside the supported subset."""
    parser = _Parser(_tokens(query_filter))
    predicate = parser.expression()
    if parser.peek() is not None:
        raise ValueError(f"unexpected {parser.peek()!r} in filter {query_filter!r}")
    return predicate


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(f"cannot read filter {text!r} at {pos}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _Parser:
    """Recursive descent: or < and < not < comparison | (expression)."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self._tokens = tokens
        self._pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _next(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ValueError("filter ends too early")
        self._pos += 1
        return token

    def _keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].lower() == word:
            self._pos += 1
            return True
        return False

    def expression(self) -> Predicate:
        left = self._conjunction()
        while self._keyword("or"):
            right = self._conjunction()
            left = (lambda a, b: lambda e: a(e) or b(e))(left, right)
        return left

    def _conjunction(self) -> Predicate:
        left = self._negation()
        while self._keyword("and"):
            right = self._negation()
            left = (lambda a, b: lambda e: a(e) and b(e))(left, right)
        return left

    def _negation(self) -> Predicate:
        if self._keyword("not"):
            inner = self._negation()
            return lambda e: not inner(e)
        return self._primary()

    def _primary(self) -> Predicate:
        token = self.peek()
        if token is not None and token[0] == "open":
            self._pos += 1
            inner = self.expression()
            if self._next()[0] != "close":
                raise ValueError("missing ')' in filter")
            return inner
        kind, name = self._next()
        if kind != "word":
            raise ValueError(f"expected a property name, got {name!r}")
        op_kind, op = self._next()
        compare = _COMPARISONS.get(op.lower()) if op_kind == "word" else None
        if compare is None:
            raise ValueError(f"unsupported operator {op!r}")
        value = _value(*self._next())
        return lambda e: _matches(e.get(name, _MISSING), value, compare)


def _value(kind: str, text: str) -> Any:
    if kind == "string":
        return text[1:-1].replace("''", "'")
    if kind == "number":
        if text.endswith("L"):
            return int(text[:-1])
        return float(text) if any(c in text for c in ".eE") else int(text)
    if kind == "word" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if kind == "typed":
        prefix, _, body = text.partition("'")
        body = body[:-1].replace("''", "'")
        if prefix == "datetime":
            return datetime.fromisoformat(body.replace("Z", "+00:00")).astimezone(UTC)
        if prefix == "guid":
            return body.lower()
        return bytes.fromhex(body)
    raise ValueError(f"expected a literal, got {text!r}")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, (bytes, bytearray)):
        return "bytes"
    return "string"


def _matches(actual: Any, expected: Any, compare: Callable[[Any, Any], bool]) -> bool:
    if actual is _MISSING or actual is None or _kind(actual) != _kind(expected):
        return False
    return compare(actual, expected)

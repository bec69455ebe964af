"""Azure Functions route templates (ASP.NET Core syntax) and their matching order.

Supported: literal segments (case-insensitive), ``{name}``, optional ``{name?}``,
defaults ``{name=value}``, constraints ``{id:int}`` / ``{id:int:min(1)}`` and the
catch-all ``{*rest}``. Segments may mix literals and parameters (``{file}.csv``).
When several templates match a path, the most specific wins, using ASP.NET's inbound
precedence: per segment, literal < constrained parameter < parameter <
constrained catch-all < catch-all, compared left to right.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
Check = Callable[[str], bool]

_PARAM = re.compile(r"\{([^{}]*)\}")
_INT32, _INT64 = (-(2**31), 2**31 - 1), (-(2**63), 2**63 - 1)


def _parses(parse: Callable[[str], object]) -> Check:
    def check(value: str) -> bool:
        try:
            parse(value)
        except ValueError:
            return False
        return True

    return check


def _int_in(bounds: tuple[int, int]) -> Check:
    return lambda v: bool(re.fullmatch(r"[+-]?\d+", v)) and bounds[0] <= int(v) <= bounds[1]


_SIMPLE_CONSTRAINTS: dict[str, Check] = {
    "int": _int_in(_INT32),
    "long": _int_in(_INT64),
    "bool": lambda v: v.lower() in ("true", "false"),
    "float": _parses(float),
    "double": _parses(float),
    "decimal": _parses(float),
    "guid": _parses(uuid.UUID),
    "datetime": _parses(dt.datetime.fromisoformat),
    "alpha": lambda v: bool(re.fullmatch(r"[A-Za-z]+", v)),
}
_ARG_CONSTRAINTS: dict[str, Callable[..., Check]] = {
    "min": lambda n: lambda v: _int_in(_INT64)(v) and int(v) >= n,
    "max": lambda n: lambda v: _int_in(_INT64)(v) and int(v) <= n,
    "range": lambda lo, hi: lambda v: _int_in(_INT64)(v) and lo <= int(v) <= hi,
    "minlength": lambda n: lambda v: len(v) >= n,
    "maxlength": lambda n: lambda v: len(v) <= n,
    "length": lambda lo, hi=None: lambda v: lo <= len(v) <= (lo if hi is None else hi),
}


def _constraint(text: str) -> Check:
    name, _, args = text.partition("(")
    if not args:
        if name not in _SIMPLE_CONSTRAINTS:
            raise ValueError(f"unsupported route constraint {text!r}")
        return _SIMPLE_CONSTRAINTS[name]
    if name not in _ARG_CONSTRAINTS or not args.endswith(")"):
        raise ValueError(f"unsupported route constraint {text!r}")
    return _ARG_CONSTRAINTS[name](*(int(a) for a in args[:-1].split(",")))


@dataclass
class _Param:
    name: str
    checks: list[Check] = field(default_factory=list)
    optional: bool = False
    default: str | None = None
    catch_all: bool = False


def _parse_param(body: str) -> _Param:
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    default = None
    if "=" in body:
        body, default = body.split("=", 1)
    optional = body.endswith("?")
    body = body.rstrip("?")
    name, *constraints = body.split(":")
    if not name.isidentifier():
        raise ValueError(f"bad route parameter name {name!r}")
    return _Param(name, [_constraint(c) for c in constraints], optional, default, catch_all)


@dataclass(frozen=True)
class RouteTemplate:
    """One compiled route template."""

    template: str
    regex: re.Pattern[str]
    params: tuple[_Param, ...]
    precedence: tuple[int, ...]

    @classmethod
    def parse(cls, template: str) -> RouteTemplate:
        segments = [s for s in template.strip("/").split("/") if s] if template.strip("/") else []
        pattern, params, precedence = "", [], []
        for position, segment in enumerate(segments):
            parts = _PARAM.split(segment)  # literal, param, literal, param, ..., literal
            seg_params = [_parse_param(p) for p in parts[1::2]]
            if any(p.catch_all for p in seg_params) and position != len(segments) - 1:
                raise ValueError(f"catch-all must be the last segment in {template!r}")
            regex, skippable = _segment_regex(parts, seg_params)
            slash = "/" if position else ""
            pattern += f"(?:{slash}{regex})?" if skippable else f"{slash}{regex}"
            params += seg_params
            precedence.append(_precedence_digit(parts, seg_params))
        return cls(
            template, re.compile(f"^{pattern}$", re.IGNORECASE | re.DOTALL), tuple(params), tuple(precedence)
        )

    def match(self, path: str) -> dict[str, str] | None:
        """Route values for ``path`` (no leading or trailing slash), or None."""
        found = self.regex.match(path)
        if not found:
            return None
        values: dict[str, str] = {}
        for param in self.params:
            value = found.group(param.name)
            if value is None or value == "":
                if param.default is not None:
                    values[param.name] = param.default
                continue
            if not all(check(value) for check in param.checks):
                return None
            values[param.name] = value
        return values


def _segment_regex(parts: list[str], params: list[_Param]) -> tuple[str, bool]:
    """Regex for one segment, and whether the whole segment may be absent."""
    if len(parts) == 3 and parts[0] == parts[2] == "":
        param = params[0]  # the segment is a single parameter
        if param.catch_all:
            return f"(?P<{param.name}>.*)", True
        skippable = param.optional or param.default is not None
        return f"(?P<{param.name}>[^/]+)", skippable
    regex = ""
    for i, literal in enumerate(parts[0::2]):
        regex += re.escape(literal)
        if i < len(params):
            regex += f"(?P<{params[i].name}>[^/]+?)"
    return regex, False


def _precedence_digit(parts: list[str], params: list[_Param]) -> int:
    if not params:
        return 1
    if len(parts) > 3 or parts[0] or parts[2]:
        return 2  # complex segment: literal text around parameters
    param = params[0]
    digit = 5 if param.catch_all else 3
    return digit - 1 if param.checks else digit


class Router(Generic[T]):
    """Route templates with a payload each, tried most specific first."""

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        compiled = [(RouteTemplate.parse(template), payload) for template, payload in entries]
        self._entries = sorted(compiled, key=lambda e: (e[0].precedence, e[0].template.lower()))
        self._seen: dict[str, list[tuple[T, dict[str, str]]]] = {}

    def match(self, path: str) -> list[tuple[T, dict[str, str]]]:
        """Every (payload, route values) whose template matches ``path``, best first.

        Answers are remembered per path (a bounded number): trying every template's regex costs
        more than a small request's own work."""
        path = path.strip("/")
        matches = self._seen.get(path)
        if matches is None:
            matches = []
            for template, payload in self._entries:
                values = template.match(path)
                if values is not None:
                    matches.append((payload, values))
            if len(self._seen) >= _REMEMBERED_PATHS:
                self._seen.clear()
            self._seen[path] = matches
        return [(payload, dict(values)) for payload, values in matches]


_REMEMBERED_PATHS = 4096

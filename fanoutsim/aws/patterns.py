"""EventBridge event patterns (also Lambda FilterCriteria): validation and matching.

Pure re-implementation of the documented content-filtering rules, because moto's matcher
treats unknown operators as a match and does not validate operator values (see
docs/architecture.md, "Where moto is touched").

Rules implemented:

- a pattern is an object; each key maps to a nested object or a non-empty array of
  matchers; ``$or`` maps to an array of sub-patterns of which at least one must match;
- matchers are exact values (string, number, boolean, null) or one-key operator objects:
  ``prefix``, ``suffix`` (string, or ``{"equals-ignore-case": s}``), ``anything-but``
  (value, list of strings or of numbers, or ``{prefix|suffix|equals-ignore-case: ...}``),
  ``numeric`` (``["=", n]`` or one or two comparisons forming a range), ``exists`` (bool),
  ``equals-ignore-case``, ``wildcard`` (``*`` any run, ``\\*`` a literal star; ``**`` is
  rejected), ``cidr``;
- an event array matches if any element matches (arrays of objects too); a field with no
  leaf value (absent, an object, an empty array) only matches ``{"exists": false}``;
- numbers compare by value (``5`` matches ``5.0``) but booleans are never numbers.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fanoutsim.errors import ConfigError, InvalidEventPattern

__all__ = [
    "MAX_FILTERS",
    "NUMERIC_LIMIT",
    "filter_criteria_matches",
    "matches",
    "parse_filter_criteria",
    "validate_pattern",
]

MAX_FILTERS = 5
NUMERIC_LIMIT = 5.0e9
_MISSING = object()
_LOWER = {">", ">="}
_UPPER = {"<", "<="}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bool) or _is_number(value)


def _fail(path: str, reason: str) -> InvalidEventPattern:
    return InvalidEventPattern(f"Event pattern is not valid. Reason: {path}: {reason}")


# --- validation ---------------------------------------------------------------------------


def validate_pattern(pattern: Any) -> None:
    """Raise :class:`InvalidEventPattern` for a pattern AWS would reject."""
    if not isinstance(pattern, Mapping):
        raise _fail("pattern", "must be a JSON object")
    _validate_object(pattern, "pattern")


def _validate_object(node: Mapping[str, Any], path: str) -> None:
    for key, value in node.items():
        where = f"{path}.{key}"
        if not isinstance(key, str):
            raise _fail(where, "keys must be strings")
        if key == "$or":
            if not isinstance(value, list) or not value:
                raise _fail(where, "$or must be a non-empty array of objects")
            for i, sub in enumerate(value):
                if not isinstance(sub, Mapping) or not sub:
                    raise _fail(f"{where}[{i}]", "each $or member must be a non-empty object")
                _validate_object(sub, f"{where}[{i}]")
        elif isinstance(value, Mapping):
            if not value:
                raise _fail(where, "empty objects are not allowed")
            _validate_object(value, where)
        elif isinstance(value, list):
            if not value:
                raise _fail(where, "empty arrays are not allowed")
            for matcher in value:
                _validate_matcher(matcher, where)
        else:
            raise _fail(where, "must be an object or an array")


def _validate_matcher(matcher: Any, path: str) -> None:
    if _is_scalar(matcher):
        return
    if not isinstance(matcher, Mapping) or len(matcher) != 1:
        raise _fail(path, f"match value {matcher!r} must be a scalar or a one-key operator")
    ((op, arg),) = matcher.items()
    check = _VALIDATORS.get(op)
    if check is None:
        raise _fail(path, f"unrecognized match type {op!r}")
    check(arg, f"{path}/{op}")


def _check_string_or_ignore_case(arg: Any, path: str) -> None:
    if isinstance(arg, str):
        return
    if isinstance(arg, Mapping) and list(arg) == ["equals-ignore-case"]:
        _check_string(arg["equals-ignore-case"], path)
        return
    raise _fail(path, "value must be a string or {equals-ignore-case: string}")


def _check_string(arg: Any, path: str) -> None:
    if not isinstance(arg, str):
        raise _fail(path, "value must be a string")


def _check_string_or_strings(arg: Any, path: str) -> None:
    if isinstance(arg, list) and arg:
        for item in arg:
            _check_string(item, path)
    else:
        _check_string(arg, path)


def _check_wildcard(arg: Any, path: str) -> None:
    _check_string_or_strings(arg, path)
    for text in arg if isinstance(arg, list) else [arg]:
        if "**" in text.replace("\\*", "").replace("\\\\", ""):
            raise _fail(path, "consecutive wildcard characters are not allowed")


def _check_bool(arg: Any, path: str) -> None:
    if not isinstance(arg, bool):
        raise _fail(path, "value must be true or false")


def _check_cidr(arg: Any, path: str) -> None:
    _check_string(arg, path)
    try:
        ipaddress.ip_network(arg, strict=False)
    except ValueError as exc:
        raise _fail(path, f"bad CIDR {arg!r}") from exc


def _check_anything_but(arg: Any, path: str) -> None:
    if isinstance(arg, str) or _is_number(arg):
        return
    if isinstance(arg, list):
        if not arg or not (all(isinstance(v, str) for v in arg) or all(map(_is_number, arg))):
            raise _fail(path, "list must be non-empty and all strings or all numbers")
        return
    if isinstance(arg, Mapping) and len(arg) == 1:
        ((inner, value),) = arg.items()
        if inner in ("prefix", "suffix"):
            _check_string(value, f"{path}/{inner}")
            return
        if inner in ("equals-ignore-case", "wildcard"):
            _VALIDATORS[inner](value, f"{path}/{inner}")
            return
    raise _fail(path, "value must be a string, a number, a list, or {prefix|suffix|...}")


def _check_numeric(arg: Any, path: str) -> None:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise _fail(path, "value must be [op, number] or [op, number, op, number]")
    ops = arg[0::2]
    for op, number in zip(ops, arg[1::2], strict=True):
        if op not in _COMPARE:
            raise _fail(path, f"unrecognized numeric operator {op!r}")
        if not _is_number(number) or abs(number) > NUMERIC_LIMIT:
            raise _fail(path, f"{number!r} must be a number within ±5e9")
    if len(ops) == 2:
        if not ({ops[0], ops[1]} & _LOWER and {ops[0], ops[1]} & _UPPER):
            raise _fail(path, "a two-comparison range needs one lower and one upper bound")
        low, high = (arg[1], arg[3]) if ops[0] in _LOWER else (arg[3], arg[1])
        if low >= high:
            raise _fail(path, "bottom must be less than top")


_VALIDATORS: dict[str, Callable[[Any, str], None]] = {
    "prefix": _check_string_or_ignore_case,
    "suffix": _check_string_or_ignore_case,
    "equals-ignore-case": _check_string_or_strings,
    "anything-but": _check_anything_but,
    "numeric": _check_numeric,
    "exists": _check_bool,
    "wildcard": _check_wildcard,
    "cidr": _check_cidr,
}


# --- matching -----------------------------------------------------------------------------


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """True if ``event`` matches ``pattern`` (validate the pattern first; see module doc)."""
    if not isinstance(event, Mapping):
        return False
    for key, sub in pattern.items():
        if key == "$or":
            if not any(matches(alternative, event) for alternative in sub):
                return False
        elif not _field_matches(sub, event.get(key, _MISSING)):
            return False
    return True


def _field_matches(sub: Any, value: Any) -> bool:
    if isinstance(sub, Mapping):
        if isinstance(value, list):
            return any(matches(sub, element) for element in value)
        return matches(sub, value)
    if value is _MISSING or isinstance(value, Mapping) or value == []:
        # No leaf value here (absent, an object, or an empty array): only exists:false holds.
        return any(isinstance(m, Mapping) and m.get("exists") is False for m in sub)
    values = value if isinstance(value, list) else [value]
    return any(_matcher_matches(m, values) for m in sub)


def _matcher_matches(matcher: Any, values: list[Any]) -> bool:
    if not isinstance(matcher, Mapping):
        return any(_same(matcher, v) for v in values)
    ((op, arg),) = matcher.items()
    if op == "exists":
        return bool(arg)
    return any(_OPERATORS[op](arg, v) for v in values)


def _same(expected: Any, actual: Any) -> bool:
    if _is_number(expected) and _is_number(actual):
        return bool(expected == actual)
    return type(expected) is type(actual) and expected == actual


def _affix(arg: Any, value: Any, test: Callable[[str, str], bool]) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(arg, Mapping):
        return test(value.casefold(), arg["equals-ignore-case"].casefold())
    return test(value, arg)


def _prefix(arg: Any, value: Any) -> bool:
    return _affix(arg, value, str.startswith)


def _suffix(arg: Any, value: Any) -> bool:
    return _affix(arg, value, str.endswith)


def _equals_ignore_case(arg: Any, value: Any) -> bool:
    options = arg if isinstance(arg, list) else [arg]
    return isinstance(value, str) and value.casefold() in {o.casefold() for o in options}


def _anything_but(arg: Any, value: Any) -> bool:
    if isinstance(arg, Mapping):
        ((inner, inner_arg),) = arg.items()
        return isinstance(value, str) and not _OPERATORS[inner](inner_arg, value)
    options = arg if isinstance(arg, list) else [arg]
    return not any(_same(option, value) for option in options)


def _numeric(arg: Sequence[Any], value: Any) -> bool:
    if not _is_number(value):
        return False
    return all(_COMPARE[op](value, bound) for op, bound in zip(arg[0::2], arg[1::2], strict=True))


def _wildcard_regex(text: str) -> re.Pattern[str]:
    parts = re.split(r"(\\\\|\\\*|\*)", text)
    translated = {"\\\\": re.escape("\\"), "\\*": re.escape("*"), "*": ".*"}
    return re.compile("".join(translated.get(p, re.escape(p)) for p in parts), re.DOTALL)


def _wildcard(arg: Any, value: Any) -> bool:
    options = arg if isinstance(arg, list) else [arg]
    return isinstance(value, str) and any(_wildcard_regex(o).fullmatch(value) for o in options)


def _cidr(arg: Any, value: Any) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(arg, strict=False)
    except (TypeError, ValueError):
        return False


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "equals-ignore-case": _equals_ignore_case,
    "anything-but": _anything_but,
    "numeric": _numeric,
    "wildcard": _wildcard,
    "cidr": _cidr,
}


def filter_criteria_matches(
    patterns: Sequence[Mapping[str, Any]], record: Mapping[str, Any]
) -> bool:
    """Lambda FilterCriteria: True if ``record`` matches any of up to 5 patterns.

    No patterns means no filtering (every record passes), as on a mapping without criteria.
    """
    if len(patterns) > MAX_FILTERS:
        raise ConfigError(f"at most {MAX_FILTERS} filter patterns, got {len(patterns)}")
    return not patterns or any(matches(p, record) for p in patterns)


def parse_filter_criteria(criteria: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    """Patterns of a Lambda ``FilterCriteria`` (``{"Filters": [{"Pattern": "<json>"}]}``),
    parsed and validated."""
    filters = criteria.get("Filters", [])
    if not isinstance(filters, list) or len(filters) > MAX_FILTERS:
        raise ConfigError(f"Filters must be a list of at most {MAX_FILTERS} entries")
    patterns = []
    for entry in filters:
        try:
            pattern = json.loads(entry["Pattern"])
        except (TypeError, KeyError, ValueError) as exc:
            raise InvalidEventPattern(f"filter {entry!r} has no JSON Pattern") from exc
        validate_pattern(pattern)
        patterns.append(pattern)
    return tuple(patterns)

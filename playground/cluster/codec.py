"""Values of API objects' fields to plain data (maps, lists, strings, numbers) and back,
checking every field; columns.py lays whole objects out as tables of such values.

Reading trusts nothing: each value is checked against the field's declared type, unknown
and missing fields are refused, and every error names the field's path.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any


class DecodeError(ValueError):
    """A value of the wrong shape; the message starts with the field's path."""


_PLAIN = frozenset({str, int, float, bool, type(None)})


def encode(obj: Any) -> Any:
    cls = obj.__class__
    if cls in _PLAIN:
        return obj
    names = _field_names(cls)
    if names is not None:   # plain values are most fields: no call for them
        plain = _PLAIN
        return {name: value if (value := getattr(obj, name)).__class__ in plain
                else encode(value) for name in names}
    if isinstance(obj, list):
        return [encode(item) for item in obj]
    if isinstance(obj, dict):
        return {key: encode(value) for key, value in obj.items()}
    return obj


@functools.cache
def _field_names(cls: type) -> tuple[str, ...] | None:
    """A record type's field names in order, worked out once (None for other types)."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple(f.name for f in dataclasses.fields(cls))


def key_path(where: str, key: Any) -> str:
    """A map entry's path; a key that would break the one-line message is quoted."""
    return f"{where}.{key}" if isinstance(key, str) and key.isprintable() else \
        f"{where}[{key!r}]"


def _name(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def decode(kind: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        for option in options:
            if _fits(option, value):
                return decode(option, value, where)
        wanted = " or ".join(_type_name(o) for o in options)
        raise DecodeError(f"{where}: expected {wanted}, got {_name(value)}")
    if origin is list:
        if not isinstance(value, list):
            raise DecodeError(f"{where}: expected a list, got {_name(value)}")
        (item,) = typing.get_args(kind)
        return [decode(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise DecodeError(f"{where}: expected a map, got {_name(value)}")
        _, item = typing.get_args(kind)
        return {key: decode(item, v, key_path(where, key)) for key, v in value.items()}
    if dataclasses.is_dataclass(kind):
        return _decode_record(kind, value, where)
    if not _fits(kind, value):
        raise DecodeError(f"{where}: expected {_type_name(kind)}, got {_name(value)}")
    return float(value) if kind is float else value


def _fits(kind: Any, value: Any) -> bool:
    if kind is type(None):
        return value is None
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in (str, bool):
        return isinstance(value, kind)
    if typing.get_origin(kind) is list:
        return isinstance(value, list)
    return isinstance(value, dict)


def _type_name(kind: Any) -> str:
    if kind is type(None):
        return "nothing"
    if dataclasses.is_dataclass(kind) or typing.get_origin(kind) is dict:
        return "a map"
    if typing.get_origin(kind) is list:
        return "a list"
    return kind.__name__


@functools.cache
def _shape(kind: type) -> tuple[dict, dict]:
    """A record type's field types and fields, worked out once per type."""
    return typing.get_type_hints(kind), {f.name: f for f in dataclasses.fields(kind)}


def _decode_record(kind: type, value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise DecodeError(f"{where}: expected a map, got {_name(value)}")
    hints, fields = _shape(kind)
    unknown = [key for key in value if key not in fields]
    if unknown:
        raise DecodeError(f"{where}: unknown field {unknown[0]!r}")
    given = {}
    for name, field in fields.items():
        if name not in value:
            if field.default is dataclasses.MISSING and \
                    field.default_factory is dataclasses.MISSING:
                raise DecodeError(f"{where}.{name}: is required")
            continue
        given[name] = decode(hints[name], value[name], f"{where}.{name}")
    return kind(**given)

"""API objects as tables, one per kind, a column per field: the compact form lab files keep.

A kind's table is a map of `count` (how many objects) and `columns`, from a field's dotted
path (`metadata.name`, `spec.containers`) to its column. Nested records (metadata, spec,
status) are spread into their fields; lists, maps and optional records are single values,
written as codec.encode writes them. A column is one of

    [v0, v1, ...]                           a value per object
    {"same": v}                             every object has v
    {"values": [v0, v1, ...], "rows": [i]}  the distinct values, and per object an index

and a column left out means every object has the field's default. Reading checks each
distinct value once, and objects given one value share what it decodes to (a Deployment's
pods, one containers list): that is safe because the API server never changes a stored
object in place, an edit is made on a copy.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Iterable, Iterator
from itertools import repeat
from typing import Any

import msgpack

from playground.cluster.codec import DecodeError, decode, encode, key_path
from playground.cluster.gc_pause import gc_paused
from playground.cluster.kinds import RECORDS as KINDS

_SCALARS = {str: (str,), int: (int,), float: (float, int), bool: (bool,),
            type(None): (type(None),)}
_MISSING = dataclasses.MISSING
_STR = frozenset({str})


@dataclasses.dataclass(frozen=True)
class Leaf:
    """One column: a field of the record or of a record nested in it."""

    path: str
    hint: Any
    default: Any      # _MISSING when the field has none
    factory: Any      # _MISSING, or what makes a fresh default
    scalars: frozenset[type] | None  # the classes a value may have; None: lists, maps...


@functools.cache
def layout(kind: type) -> tuple[Leaf, ...]:
    """A kind's columns, in the order of its fields (its own `kind` field is the table's)."""
    return tuple(_leaves(kind, "", top=True))


def _leaves(record: type, prefix: str, top: bool = False) -> Iterator[Leaf]:
    hints = _hints(record)
    for field in dataclasses.fields(record):
        if top and field.name == "kind":
            continue
        hint, path = hints[field.name], prefix + field.name
        if dataclasses.is_dataclass(hint):
            yield from _leaves(hint, path + ".")
        else:
            yield Leaf(path, hint, field.default, field.default_factory, _scalar_classes(hint))


def _scalar_classes(hint: Any) -> frozenset[type] | None:
    options = typing.get_args(hint) if typing.get_origin(hint) in (
        typing.Union, types.UnionType) else (hint,)
    if not all(option in _SCALARS for option in options):
        return None
    return frozenset(cls for option in options for cls in _SCALARS[option])


@functools.cache
def _hints(record: type) -> dict[str, Any]:
    return typing.get_type_hints(record)


@functools.cache
def _fields(record: type) -> dict[str, dataclasses.Field]:
    return {field.name: field for field in dataclasses.fields(record)}


# writing

def encode_tables(objects: Iterable) -> dict[str, dict]:
    """Objects as a table per kind, in the order they come (grouped by kind)."""
    groups: dict[str, list] = {}
    for obj in objects:
        groups.setdefault(obj.kind, []).append(obj)
    with gc_paused():
        return {kind: _encode_table(KINDS[kind], group) for kind, group in groups.items()}


def _encode_table(kind: type, objects: list) -> dict:
    columns = {}
    values = _reader(kind)(objects) if objects else [() for _ in layout(kind)]
    for leaf, column in zip(layout(kind), values, strict=True):
        encoded = _encode_column(leaf, list(column))
        if encoded is not None:
            columns[leaf.path] = encoded
    return {"count": len(objects), "columns": columns}


@functools.cache
def _reader(kind: type):
    """A function from objects to their columns (one pass, written out once per kind: four
    times faster than an attrgetter per column)."""
    fields = ", ".join(f"o.{leaf.path}" for leaf in layout(kind))
    return _compile(f"def read(objects):\n"
                    f"    return list(zip(*[({fields},) for o in objects]))\n", {}, "read")


# fields that differ from object to object by nature: written as they are, without first
# looking for values to share (a pass over 150,000 scattered strings each)
DISTINCT = frozenset({"metadata.name", "metadata.uid", "metadata.resource_version",
                      "status.pod_ip", "spec.cluster_ip", "spec.pod_cidr",
                      "status.internal_ip"})
_TEXT = frozenset({str, type(None)})


def _encode_column(leaf: Leaf, values: list) -> Any:
    """The smallest form of a column; None when every value is the field's default."""
    if leaf.path in DISTINCT and len(values) > 1:
        return values
    if leaf.scalars is None:
        keys = _freezer(leaf.hint)(values)
    elif not leaf.scalars <= _TEXT and len({value.__class__ for value in values} - _TEXT) > 1:
        return values  # 1, 1.0 and True are equal keys: keep mixed numbers as they are
    else:
        keys = values
    number = dict.fromkeys(keys)
    if len(number) > 1 and len(number) * 4 > len(values) and leaf.scalars is not None:
        return values
    if leaf.scalars is None:
        distinct, rows = _distinct(values, keys, number)
    else:  # the keys are the values, each kept as first seen
        distinct, rows = list(number), _numbered(keys, number)
    if len(distinct) == 1 and _is_default(leaf, distinct[0]):
        return None
    return _shared([encode(value) for value in distinct], rows)


def _distinct(values: list, keys: list, number: dict) -> tuple[list, list[int]]:
    """The values of distinct keys, in order of first use, and each row's index into them;
    `number` is dict.fromkeys(keys), and becomes key -> index."""
    rows = _numbered(keys, number)
    first = dict(zip(reversed(rows), range(len(rows) - 1, -1, -1), strict=True))
    return [values[first[index]] for index in range(len(number))], rows


def _numbered(keys: list, number: dict) -> list[int]:
    for position, key in enumerate(number):
        number[key] = position
    return list(map(number.__getitem__, keys))


def _shared(values: list, rows: list[int]) -> Any:
    if len(values) == 1:
        return {"same": values[0]}
    return {"values": values, "rows": rows} if values else []


def _is_default(leaf: Leaf, value: Any) -> bool:
    if leaf.factory is not _MISSING:
        return value == leaf.factory()
    return leaf.default is not _MISSING and value.__class__ is leaf.default.__class__ \
        and value == leaf.default


@functools.cache
def _freezer(hint: Any):
    """For a field's type: a function from a column's values to hashable stand-ins, equal
    exactly when the values are (a list becomes a tuple, a record the tuple of its fields),
    written out once per type."""
    return _compile(f"def freeze(values):\n"
                    f"    return [{_frozen(hint, 'v', 0)} for v in values]\n",
                    {"_any": _any}, "freeze")


def _frozen(hint: Any, value: str, depth: int) -> str:
    """The expression freezing `value`, a value of type `hint`."""
    origin, item = typing.get_origin(hint), f"x{depth}"
    if _scalar_classes(hint) is not None:
        return value
    if origin is dict:
        inner = _frozen(typing.get_args(hint)[1], item, depth + 1)
        return f"tuple({value}.items())" if inner == item else \
            f"tuple([(k{depth}, {inner}) for k{depth}, {item} in {value}.items()])"
    if origin is list:
        inner = _frozen(typing.get_args(hint)[0], item, depth + 1)
        return f"tuple({value})" if inner == item else \
            f"tuple([{inner} for {item} in {value}])"
    if dataclasses.is_dataclass(hint):
        parts = [_frozen(_hints(hint)[field.name], f"{value}.{field.name}", depth)
                 for field in dataclasses.fields(hint)]
        if all(_scalar_classes(_hints(hint)[field.name]) is not None
               for field in dataclasses.fields(hint)):
            return f"tuple({value}.__dict__.values())"
        return f"({', '.join(parts)},)"
    return f"_any({value})"


def _any(value: Any) -> Any:
    """Unions of records and other values: the record's class keeps them apart."""
    if hasattr(value, "__dataclass_fields__"):
        return (value.__class__, *map(_any, value.__dict__.values()))
    if isinstance(value, list):
        return tuple(map(_any, value))
    if isinstance(value, dict):
        return tuple((key, _any(item)) for key, item in value.items())
    return value


# reading

def decode_tables(tables: Any, where: str = "objects") -> list:
    """The objects of every table, table after table; DecodeError naming the path of the
    first thing wrong. Counts are not limited here (see check_tables)."""
    check_tables(tables, where)
    objects: list = []
    with gc_paused():
        for name, table in tables.items():
            objects += _decode_table(KINDS[name], table, f"{where}.{name}")
    return objects


def check_tables(tables: Any, where: str = "objects", limit: int | None = None) -> int:
    """The outline alone (kinds, counts, column maps), cheap; returns how many objects."""
    if not isinstance(tables, dict):
        raise DecodeError(f"{where}: expected a map of kinds, got {_name(tables)}")
    total = 0
    for name, table in tables.items():
        here = key_path(where, name)
        if name not in KINDS:
            raise DecodeError(f"{here}: {name!r} is not a kind a lab holds "
                              f"({', '.join(KINDS)})")
        if not isinstance(table, dict) or sorted(table) != ["columns", "count"]:
            raise DecodeError(f"{here}: expected a map of count and columns")
        count = table["count"]
        if count.__class__ is not int or count < 0:
            raise DecodeError(f"{here}.count: expected a whole number 0 or more")
        if not isinstance(table["columns"], dict):
            raise DecodeError(f"{here}.columns: expected a map, got {_name(table['columns'])}")
        total += count
        if limit is not None and total > limit:
            raise DecodeError(f"{where}: more than the {limit} objects allowed")
    return total


def _decode_table(kind: type, table: dict, where: str) -> list:
    count, given = table["count"], table["columns"]
    leaves = layout(kind)
    known = {leaf.path for leaf in leaves}
    unknown = [path for path in given if path not in known]
    if unknown:
        raise DecodeError(f"{where}: unknown field {unknown[0]!r}")
    columns = [_decode_column(leaf, given[leaf.path], count, where) if leaf.path in given
               else _default_column(leaf, count, where) for leaf in leaves]
    return _builder(kind)(*columns)


def _default_column(leaf: Leaf, count: int, where: str) -> Iterable:
    if leaf.factory is not _MISSING:
        return (leaf.factory() for _ in range(count))
    if leaf.default is not _MISSING:
        return repeat(leaf.default, count)
    if count:
        raise DecodeError(f"{where}.{leaf.path}: is required")
    return ()


def _decode_column(leaf: Leaf, column: Any, count: int, where: str) -> Iterable:
    here = f"{where}.{leaf.path}"
    if isinstance(column, list):
        if len(column) != count:
            raise DecodeError(f"{here}: expected {count} values, got {len(column)}")
        return _decode_values(leaf, column, lambda index: f"{where}[{index}].{leaf.path}")
    if isinstance(column, dict) and list(column) == ["same"]:
        (value,) = _decode_values(leaf, [column["same"]],
                                  lambda index: f"{where}[0].{leaf.path}" if count
                                  else f"{here}.same")
        return repeat(value, count)
    if isinstance(column, dict) and sorted(column) == ["rows", "values"]:
        values, rows = column["values"], column["rows"]
        if not isinstance(values, list):
            raise DecodeError(f"{here}.values: expected a list, got {_name(values)}")
        if not isinstance(rows, list) or len(rows) != count:
            raise DecodeError(f"{here}.rows: expected a list of {count} indexes")
        if rows and ({row.__class__ for row in rows} != {int} or min(rows) < 0
                     or max(rows) >= len(values)):
            raise DecodeError(f"{here}.rows: expected indexes into the {len(values)} values")
        decoded = _decode_values(leaf, values, lambda index: _first_use(where, leaf.path,
                                                                        rows, index))
        return list(map(decoded.__getitem__, rows))
    raise DecodeError(f"{here}: expected a list of values, or a map of same, or of values "
                      "and rows")


def _first_use(where: str, path: str, rows: list[int], index: int) -> str:
    """A shared value's path: the first object given it, else its place in the values."""
    try:
        return f"{where}[{rows.index(index)}].{path}"
    except ValueError:
        return f"{where}.{path}.values[{index}]"


def _decode_values(leaf: Leaf, values: list, place) -> list:
    """The values checked; `place(index)` names a bad one's path, worked out only then."""
    allowed = leaf.scalars or _plain_items(leaf.hint)
    if allowed is None:
        decoded = []
        for index, value in enumerate(values):
            try:
                decoded.append(decode(leaf.hint, value, ""))
            except DecodeError as error:
                raise DecodeError(place(index) + str(error)) from None
        return decoded
    if leaf.scalars is None:  # a list or map of plain values: each checked, then kept
        allowed, outer = allowed
        good = all(value.__class__ is outer and (
            {item.__class__ for item in value} <= allowed if outer is list else
            {item.__class__ for item in value.values()} <= allowed
            and {key.__class__ for key in value} <= _STR) for value in values)
    else:
        good = {value.__class__ for value in values} <= allowed
    if not good:
        for index, value in enumerate(values):
            try:
                decode(leaf.hint, value, "")
            except DecodeError as error:
                raise DecodeError(place(index) + str(error)) from None
    if float in allowed and any(value.__class__ is int for value in values):
        return [float(value) for value in values]
    return values


@functools.cache
def _plain_items(hint: Any) -> tuple[frozenset[type], type] | None:
    """For list[str] or dict[str, str]: the classes an item may have, and list or dict;
    None for other types."""
    origin = typing.get_origin(hint)
    if origin not in (list, dict):
        return None
    items = _scalar_classes(typing.get_args(hint)[-1])
    if items is None or float in items:
        return None
    return items, origin


def tables_from_maps(objects: list, where: str = "objects") -> dict[str, dict]:
    """Objects written one map each (lab files of version 1) as tables. Their shape is
    checked here, in the words and paths version 1 used (objects[7].spec: ...); the values
    are checked when the tables are read."""
    with gc_paused():
        return _tables_from_maps(objects, where)


def _tables_from_maps(objects: list, where: str) -> dict[str, dict]:
    rows: dict[str, list[list]] = {}
    for index, data in enumerate(objects):
        here = f"{where}[{index}]"
        if not isinstance(data, dict):
            raise DecodeError(f"{here}: expected a map, got {_name(data)}")
        kind = data.get("kind")
        if kind not in KINDS:
            shown = kind if isinstance(kind, str) else _name(kind)
            raise DecodeError(f"{here}: kind {shown!r} is not one a lab holds "
                              f"({', '.join(KINDS)})")
        row = [_ABSENT] * len(layout(KINDS[kind]))
        _spread(*_plan(KINDS[kind], KINDS[kind], ""), data, here, row)
        rows.setdefault(kind, []).append(row)
    tables = {}
    for kind, group in rows.items():
        columns = {}
        for leaf, values in zip(layout(KINDS[kind]), zip(*group, strict=True), strict=True):
            absent = values.count(_ABSENT)
            if absent == len(values):
                continue
            fill = encode(leaf.factory() if leaf.factory is not _MISSING else leaf.default)
            column = [fill if value is _ABSENT else value for value in values] \
                if absent else list(values)
            if leaf.scalars is None:  # msgpack's bytes tell 1, 1.0 and True apart
                keys = list(map(msgpack.packb, column))
                column = _shared(*_distinct(column, keys, dict.fromkeys(keys)))
            columns[leaf.path] = column
        tables[kind] = {"count": len(group), "columns": columns}
    return tables


_ABSENT = object()  # a field a version-1 map left out


@functools.cache
def _plan(kind: type, record: type, prefix: str) -> tuple[tuple, frozenset[str]]:
    """How to spread a map of `record` (at `prefix` in a `kind`): per field its name, whether
    it is required, the plan of the record it holds, and its column's place in the layout."""
    places = {leaf.path: place for place, leaf in enumerate(layout(kind))}
    steps = []
    for field in dataclasses.fields(record):
        hint, path = _hints(record)[field.name], prefix + field.name
        inner = _plan(kind, hint, path + ".") if dataclasses.is_dataclass(hint) else None
        required = field.default is _MISSING and field.default_factory is _MISSING
        steps.append((field.name, required, inner, places.get(path)))
    return tuple(steps), frozenset(_fields(record))


def _spread(steps: tuple, names: frozenset[str], data: Any, where: str, row: list) -> None:
    """A version-1 map's values into `row`, its shape checked (in codec's words)."""
    if not isinstance(data, dict):
        raise DecodeError(f"{where}: expected a map, got {_name(data)}")
    if not data.keys() <= names:
        unknown = next(key for key in data if key not in names)
        raise DecodeError(f"{where}: unknown field {unknown!r}")
    for name, required, inner, place in steps:
        value = data.get(name, _ABSENT)
        if value is _ABSENT:
            if required:
                raise DecodeError(f"{where}.{name}: is required")
        elif inner is not None:
            _spread(*inner, value, f"{where}.{name}", row)
        elif place is not None:  # not the kind, which chose the record
            row[place] = value


def _name(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


@functools.cache
def _builder(kind: type):
    """A function from the columns (in layout order) to the objects, written out once per
    kind so each object costs only its constructors' calls."""
    names: dict[str, Any] = {}
    counter = iter(range(len(layout(kind))))

    def call(record: type, top: bool) -> str:
        names[record.__name__] = record
        hints, args = _hints(record), []
        for field in dataclasses.fields(record):
            if top and field.name == "kind":
                args.append(repr(field.default))
            elif dataclasses.is_dataclass(hints[field.name]):
                args.append(call(hints[field.name], False))
            else:
                args.append(f"a{next(counter)}")
        return f"{record.__name__}({', '.join(args)})"

    made = call(kind, True)
    params = [f"a{index}" for index in range(len(layout(kind)))]
    columns = [f"c{index}" for index in range(len(params))]
    source = (f"def build({', '.join(columns)}):\n"
              f"    return [{made} for {', '.join(params)},"
              f" in zip({', '.join(columns)})]\n")
    return _compile(source, names, "build")


def _compile(source: str, names: dict[str, Any], function: str):
    """The function `source` defines: made only of our own dataclasses' field names, never
    of anything read from a file."""
    exec(source, names)  # noqa: S102
    return names[function]

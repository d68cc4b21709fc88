"""The fixture the seeded fuzz harnesses share (manifests, lab files): any value a YAML or
msgpack document can hold, every place in a document one can go, a draw that puts some
there, and the seeded settings (same examples every run, no deadline)."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

SEEDED = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def values(specials: list, max_leaves: int):
    """Any scalar (the format's edges, and `specials`: what a harness knows is tricky),
    and small lists and maps of them."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**64, 2**64 - 1), st.floats(),
                        st.text(max_size=20), st.sampled_from(specials))
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
        max_leaves=max_leaves)


def places(node, prefix: tuple = (), items: int | None = None):
    """Every place in a document a value can be put: the whole of it, then each key and
    list item (the first `items` of a list), depth first."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from places(value, (*prefix, key), items)
    elif isinstance(node, list):
        for index, value in enumerate(node[:items]):
            yield from places(value, (*prefix, index), items)


def put(document, place: tuple, value):
    """`document` with `value` at `place` (the whole of it at ()); unchanged if an earlier
    change took the way there."""
    if not place:
        return value
    node = document
    try:
        for part in place[:-1]:
            node = node[part]
        node[place[-1]] = value
    except (KeyError, IndexError, TypeError):
        pass
    return document


def changed(draw, document, how_many, where, value_strategy):
    """A copy of `document` with `how_many` values drawn, each into a place drawn from
    `where(the copy as it is now)`."""
    document = copy.deepcopy(document)
    for _ in range(draw(how_many)):
        document = put(document, draw(where(document)), draw(value_strategy))
    return document

"""JSONata building blocks for lists that stay lists.

JSONata flattens sequences: a path or `[...]` over a list of lists, or a one-element result,
does not keep its shape. These helpers build lists element by element with `$append`, wrapping
an element that is itself a list, so every element comes through whole.
"""

from __future__ import annotations


def one(element: str) -> str:
    """A one-element list holding `element` (a JSONata variable), whatever its type."""
    return f'($type({element}) = "array" ? [[{element}]] : [{element}])'


def append_one(items: str, element: str) -> str:
    return f"$append({items}, {one(element)})"


def keep(items: str, predicate: str) -> str:
    """The elements `$x` of a list for which `predicate` (over `$x`) holds, in order."""
    return (
        f"$reduce({items}, function($a, $x) {{ ({predicate}) ? {append_one('$a', '$x')} : $a }},"
        " [])"
    )


def slice_of(items: str, first: str, last: str) -> str:
    """Elements first..last (0-based, inclusive) of a list held in a variable."""
    return (
        f"$reduce([{first}..{last}], function($a, $k) {{ ($x := {items}[$k]; "
        f"{append_one('$a', '$x')}) }}, [])"
    )


def as_list(value: str) -> str:
    """A value as a list: lists as they are, null as empty."""
    return f'($l := {value}; $type($l) = "array" ? $l : $l = null ? [] : [$l])'

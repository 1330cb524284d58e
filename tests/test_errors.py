"""The error tree in errors.py's docstring is the one the code defines."""
from __future__ import annotations

import re

import feedpub.errors as errors


def documented_tree() -> dict[str, str | None]:
    """class -> documented parent, from the box-drawing tree of the module docstring."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in errors.__doc__.splitlines():
        m = re.match(r"^([ │├└─]*)([A-Z][A-Za-z]+Error)\b", line)
        if not m:
            continue
        depth = len(m.group(1))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[m.group(2)] = stack[-1][1] if stack else None
        stack.append((depth, m.group(2)))
    return parents


def test_every_error_class_is_in_the_tree_under_its_real_parent():
    defined = {name: cls for name, cls in vars(errors).items()
               if isinstance(cls, type) and issubclass(cls, Exception) and cls.__module__ == errors.__name__}
    tree = documented_tree()
    assert set(tree) == set(defined)
    for name, parent in tree.items():
        base = defined[name].__bases__[0]
        assert (base.__name__ if base.__module__ == errors.__name__ else None) == parent, name


def test_the_tree_reader_can_fail():
    original = errors.__doc__
    try:
        errors.__doc__ = original.replace(" │    ├── OutputConflictError", " ├── OutputConflictError")
        assert documented_tree()["OutputConflictError"] == "FeedpubError"
    finally:
        errors.__doc__ = original

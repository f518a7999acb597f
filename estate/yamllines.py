"""Safe YAML to plain dicts and lists, remembering the line of every key and list item."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from caretaker.estate.errors import SiteError, SiteProblem

# a path into the document: ("devices", 3, "floor")
Path = tuple[Any, ...]
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAX_DEPTH = 64  # deeper than any site file; stops a recursive alias (&a [*a]) looping forever


def load_yaml_with_lines(text: str, filename: str) -> tuple[Any, dict[Path, int]]:
    """Return the document in `text` as plain values and each path's 1-based line.

    Raises SiteError for text that is not YAML, an empty document, duplicate keys or keys that
    cannot be keys; every such problem is reported, not just the first.
    """
    data, lines, problems = read_yaml_with_lines(text, filename)
    if problems:
        raise SiteError(problems, filename)
    return data, lines


def read_yaml_with_lines(text: str, filename: str) -> tuple[Any, dict[Path, int], list[SiteProblem]]:
    """Return the document in `text` as plain values, each path's 1-based line, and lesser problems.

    Raises SiteError for text that is not YAML or an empty document. Duplicate keys and keys that
    cannot be keys come back as problems (the first key is kept), so that a caller can report them
    together with everything else it finds.
    """
    # libyaml's scanner and composer (the pure-Python ones were 90% of loading a 100,000-device file); the
    # nodes still carry their marks, so every line below is the same
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise SiteError([_yaml_problem(exc)], filename) from exc
        except yaml.YAMLError as exc:
            raise SiteError([SiteProblem(None, "", f"not valid YAML: {exc}")], filename) from exc
        if node is None:
            raise SiteError([SiteProblem(1, "", "the file is empty: no YAML document in it")], filename)
        lines: dict[Path, int] = {}
        problems: list[SiteProblem] = []
        try:
            data = _build(node, (), lines, problems, loader)
        except yaml.MarkedYAMLError as exc:
            raise SiteError([_yaml_problem(exc)], filename) from exc
        return data, lines, problems
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.MarkedYAMLError) -> SiteProblem:
    mark = exc.problem_mark or exc.context_mark
    what = "; ".join(part for part in (exc.context, exc.problem) if part) or "cannot be read"
    return SiteProblem(mark.line + 1 if mark is not None else None, "", f"not valid YAML: {what}")


def _build(node: Node, path: Path, lines: dict[Path, int], problems: list[SiteProblem],
           loader: yaml.SafeLoader) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if len(path) > _MAX_DEPTH:
        problems.append(SiteProblem(node.start_mark.line + 1, format_path(path), "nested too deeply"))
        return None
    if isinstance(node, MappingNode):
        loader.flatten_mapping(node)  # resolve `<<: *anchor` merge keys the way PyYAML would
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                problems.append(SiteProblem(key_line, format_path(path), "a key must be a plain word or number"))
                continue
            child = (*path, key)
            if key in result:
                # PyYAML would silently keep the last one; a silent overwrite hides mistakes
                problems.append(SiteProblem(key_line, format_path(child),
                                            f"duplicate key {key!r} (first on line {lines[child]})"))
                continue
            lines[child] = key_line
            result[key] = _build(value_node, child, lines, problems, loader)
        return result
    if isinstance(node, SequenceNode):
        return [_build(item, (*path, index), lines, problems, loader) for index, item in enumerate(node.value)]
    assert isinstance(node, ScalarNode)
    return loader.construct_object(node, deep=True)


def format_path(path: Path, data: Any = None) -> str:
    """Return `path` as "devices[3].floor"; list indexes in brackets, mapping keys after dots.

    Integers are read as list indexes unless `data` (the document) shows a mapping at that point.
    """
    text = ""
    here = data
    for step in path:
        is_index = isinstance(step, int) and not isinstance(step, bool) and not isinstance(here, dict)
        text += f"[{step}]" if is_index else (f".{step}" if text else str(step))
        try:
            here = here[step] if here is not None else None
        except (KeyError, IndexError, TypeError):
            here = None
    return text


def line_of(path: Path, lines: dict[Path, int]) -> int | None:
    """Return the line of `path`, or of its nearest ancestor when the path itself is not in the file."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None

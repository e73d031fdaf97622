"""Load case-type and decision-table YAML, reporting problems by file, line and field.

Definitions are written by people, so an error must say where it is: every problem becomes a
:class:`CaseTypeError` such as ``complaint.yaml:12: questionnaires[0].questions[2].show_if:
unknown function 'foo'``. Validation itself is pydantic's (see ``model.py``); this module
keeps the YAML node tree, whose marks map each error's location to a line.

Timestamps are deliberately not resolved: ``2026-01-31`` stays a string, as JSON Schema's
``format: date`` expects and as the JSON column that stores definitions requires.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from casework.casetypes.model import CaseTypeDef, Loc, format_loc
from casework.decisions.tables import DecisionTable, TableError, parse_table

#: Shipped definitions in the order they are offered; any other shipped file follows by name.
SHIPPED_ORDER = ("complaint", "support_ticket", "onboarding", "disputed_transaction")


class CaseTypeError(ValueError):
    """One problem in a definition file: where it is and what is wrong."""

    def __init__(self, message: str, *, file: str = "<text>", line: int | None = None, field: str = "") -> None:
        self.file, self.line, self.field, self.message = file, line, field, message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader without the implicit timestamp type (dates stay ISO strings) and without aliases:
    definitions arrive through the API, and nested aliases ("billion laughs") would expand a small
    text into gigabytes."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed; repeat the value instead", event.start_mark)
        return super().compose_node(parent, index)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _parse(text: str, filename: str) -> tuple[Any, Node | None, list[CaseTypeError]]:
    """The data, its node tree and the problems YAML itself reveals (syntax, duplicate keys)."""
    try:
        loader = _Loader(text)  # the reader already refuses control characters here
    except yaml.YAMLError as exc:
        return None, None, [CaseTypeError(f"invalid YAML: {' '.join(str(exc).split())}", file=filename, line=1)]
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else None
        message = ": ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        return None, None, [CaseTypeError(f"invalid YAML: {message}", file=filename, line=line)]
    except yaml.YAMLError as exc:
        return None, None, [CaseTypeError(f"invalid YAML: {exc}", file=filename)]
    finally:
        loader.dispose()
    if root is None or not isinstance(data, dict):
        return (
            None,
            root,
            [CaseTypeError("the document must be a mapping of keys to values", file=filename, line=_line(root) if root else 1)],
        )
    return data, root, _duplicate_keys(root, filename, ())


def _duplicate_keys(node: Node, filename: str, loc: Loc) -> list[CaseTypeError]:
    """YAML keeps the last of two equal keys silently; a definition author never means that."""
    errors: list[CaseTypeError] = []
    if isinstance(node, MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value) if isinstance(key, ScalarNode) else "?"
            if name in seen:
                errors.append(CaseTypeError("duplicate key", file=filename, line=_line(key), field=format_loc((*loc, name))))
            seen.add(name)
            errors += _duplicate_keys(value, filename, (*loc, name))
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            errors += _duplicate_keys(item, filename, (*loc, i))
    return errors


def line_for(root: Node | None, loc: Iterable[str | int]) -> int | None:
    """The line of the deepest node ``loc`` reaches (a key's own line for mapping entries).

    Parts that match nothing (pydantic's ``[key]`` or union tags, a missing key) are skipped,
    so the answer is the closest enclosing node rather than nothing.
    """
    if root is None:
        return None
    node, line = root, _line(root)
    for part in loc:
        if isinstance(node, MappingNode):
            match = next(((k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == str(part)), None)
            if match is not None:
                line, node = _line(match[0]), match[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = _line(node)
    return line


def _message(error: Mapping[str, Any]) -> str:
    kind, msg = error["type"], str(error["msg"])
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"invalid key: {msg}" if "[key]" in error["loc"] else msg


def _validation_errors(exc: ValidationError, root: Node | None, filename: str) -> list[CaseTypeError]:
    errors = []
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if p != "[key]")
        errors.append(CaseTypeError(_message(error), file=filename, line=line_for(root, loc), field=format_loc(loc)))
    return errors


def _validate(
    data: Any, root: Node | None, filename: str, known_tables: Collection[str] | None
) -> tuple[CaseTypeDef | None, list[CaseTypeError]]:
    context: dict[str, Any] = {"problems": [], "known_tables": known_tables}
    try:
        defn = CaseTypeDef.model_validate(data, context=context)
    except ValidationError as exc:
        return None, _validation_errors(exc, root, filename)
    errors = [CaseTypeError(msg, file=filename, line=line_for(root, loc), field=format_loc(loc)) for loc, msg in context["problems"]]
    return (None if errors else defn), errors


def _known(known_tables: Collection[str] | None) -> Collection[str]:
    return {t.name for t in shipped_tables()} if known_tables is None else known_tables


def validate_case_type_text(text: str, filename: str = "<text>", known_tables: Collection[str] | None = None) -> list[CaseTypeError]:
    """Every problem found, ordered by line (empty when the definition is valid).

    ``known_tables`` are the decision tables bindings may name; None means the shipped ones.
    Cross-reference problems are only looked for once the structure itself is valid.
    """
    data, root, errors = _parse(text, filename)
    if data is not None:
        errors += _validate(data, root, filename, _known(known_tables))[1]
    return sorted(errors, key=lambda e: e.line or 0)


def load_case_type_text(text: str, *, filename: str = "<text>", known_tables: Collection[str] | None = None) -> CaseTypeDef:
    """The definition, or raise the first :class:`CaseTypeError` (by line)."""
    data, root, errors = _parse(text, filename)
    defn = None
    if data is not None:
        defn, more = _validate(data, root, filename, _known(known_tables))
        errors += more
    if errors or defn is None:
        raise sorted(errors, key=lambda e: e.line or 0)[0]
    return defn


def load_case_type_file(path: str | Path, known_tables: Collection[str] | None = None) -> CaseTypeDef:
    path = Path(path)
    return load_case_type_text(path.read_text(encoding="utf-8"), filename=path.name, known_tables=known_tables)


def definition_from_dict(data: Mapping[str, Any], known_tables: Collection[str] | None = None, *, source: str = "<stored>") -> CaseTypeDef:
    """Rebuild a stored definition (its JSON form). Tables are not checked unless named, so a
    case stored under an older table set still reads; raises the first CaseTypeError."""
    defn, errors = _validate(dict(data), None, source, known_tables)
    if errors or defn is None:
        raise errors[0]
    return defn


def definition_to_dict(defn: CaseTypeDef) -> dict[str, Any]:
    """The complete JSON form, for storage (defaults included so later default changes do not alter it)."""
    return defn.model_dump(mode="json")


def definition_to_yaml(defn: CaseTypeDef) -> str:
    """Readable YAML without defaults or empty conditions; loads back to an equal definition."""
    data = defn.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    data = {"key": defn.key, "version": defn.version, "name": defn.name, **data}
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120))


# --- decision tables ------------------------------------------------------------------------


def _table_loc(path: Any) -> Loc:
    """TableError paths as a loc tuple, whether given as a sequence or as "rules[2].when[0]"."""
    if isinstance(path, list | tuple):
        return tuple(path)
    loc: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", str(path or "")):
        loc.append(int(index) if index else (int(name) if name.isdigit() else name))
    return tuple(loc)


def load_table_text(text: str, filename: str = "<text>") -> DecisionTable:
    """Parse a decision table; problems are raised as CaseTypeError with the line of the field."""
    data, root, errors = _parse(text, filename)
    if errors:
        raise errors[0]
    try:
        return parse_table(data)
    except TableError as exc:
        loc = _table_loc(exc.path)
        raise CaseTypeError(exc.message, file=filename, line=line_for(root, loc), field=format_loc(loc)) from None


def _definition_files(folder: str) -> list[tuple[str, str]]:
    directory = resources.files("casework.casetypes").joinpath(folder)
    files = [(entry.name, entry.read_text(encoding="utf-8")) for entry in directory.iterdir() if entry.name.endswith(".yaml")]
    rank = {name: i for i, name in enumerate(SHIPPED_ORDER)}
    return sorted(files, key=lambda f: (rank.get(f[0].removesuffix(".yaml"), len(rank)), f[0]))


@functools.cache
def _shipped_tables() -> tuple[DecisionTable, ...]:
    return tuple(load_table_text(text, name) for name, text in _definition_files("definitions/tables"))


@functools.cache
def _shipped_case_type_files() -> tuple[tuple[CaseTypeDef, str, str], ...]:
    known = {t.name for t in _shipped_tables()}
    files = _definition_files("definitions")
    return tuple((load_case_type_text(text, filename=name, known_tables=known), name, text) for name, text in files)


def _shipped_case_types() -> tuple[CaseTypeDef, ...]:
    return tuple(defn for defn, _name, _text in _shipped_case_type_files())


def shipped_case_type_files() -> list[tuple[CaseTypeDef, str, str]]:
    """Each bundled case type with its file name and YAML text (installing one stores its text too)."""
    return list(_shipped_case_type_files())


def shipped_tables() -> list[DecisionTable]:
    """The seed decision tables bundled with the package (parsed once per process)."""
    return list(_shipped_tables())


def shipped_case_types() -> list[CaseTypeDef]:
    """The bundled case types, in offering order (parsed and validated once per process)."""
    return list(_shipped_case_types())


def shipped_case_type(key: str) -> CaseTypeDef | None:
    return next((d for d in _shipped_case_types() if d.key == key), None)


def shipped_table(name: str) -> DecisionTable | None:
    return next((t for t in _shipped_tables() if t.name == name), None)

"""Structural differences between two versions of a case type.

Publishing a new version should show a reviewer what actually changed. A line diff of YAML
is noisy (reordering, reformatting), and an index-based diff of lists misreports a question
inserted at the top as every question changing; so lists of keyed items (questionnaires,
questions, documents, milestones, intake items, plan templates) are matched by their key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from casework.casetypes.model import CaseTypeDef

#: The attributes that identify an item in a list, tried in order.
ITEM_KEYS = ("key", "kind", "field", "id", "title")


@dataclass(frozen=True)
class Change:
    path: str
    kind: Literal["added", "removed", "changed"]
    before: Any = None
    after: Any = None


def _as_dict(definition: Mapping[str, Any] | CaseTypeDef) -> dict[str, Any]:
    """Both sides in the full JSON form, so a default written out on one side is no change."""
    if isinstance(definition, CaseTypeDef):
        return definition.model_dump(mode="json")
    try:
        return CaseTypeDef.model_validate(dict(definition)).model_dump(mode="json")
    except ValueError:
        raw: dict[str, Any] = json.loads(json.dumps(dict(definition), default=str))  # an invalid draft: compare what is there
        return raw


def _item_key(items: list[Any]) -> str | None:
    """The attribute that identifies every item uniquely, if there is one."""
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for attr in ITEM_KEYS:
        values = [i.get(attr) for i in items]
        if all(isinstance(v, str) for v in values) and len(set(values)) == len(values):
            return attr
    return None


def _scalar_set(items: list[Any]) -> bool:
    return all(isinstance(i, str | int | float | bool) for i in items) and len(set(map(json.dumps, items))) == len(items)


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def _diff(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for name in old:
            if name not in new:
                out.append(Change(_join(path, str(name)), "removed", old[name], None))
            else:
                _diff(old[name], new[name], _join(path, str(name)), out)
        out.extend(Change(_join(path, str(name)), "added", None, new[name]) for name in new if name not in old)
        return
    if isinstance(old, list) and isinstance(new, list):
        attr = _item_key(old) or _item_key(new)
        if attr is not None and (not old or _item_key(old) == attr) and (not new or _item_key(new) == attr):
            before = {i[attr]: i for i in old}
            after = {i[attr]: i for i in new}
            for name, item in before.items():
                sub = f"{path}[{name}]"
                if name not in after:
                    out.append(Change(sub, "removed", item, None))
                else:
                    _diff(item, after[name], sub, out)
            out.extend(Change(f"{path}[{name}]", "added", None, item) for name, item in after.items() if name not in before)
            if [k for k in before if k in after] != [k for k in after if k in before]:
                out.append(Change(path, "changed", [k for k in before if k in after], [k for k in after if k in before]))
            return
        if _scalar_set(old) and _scalar_set(new) and sorted(map(json.dumps, old)) != sorted(map(json.dumps, new)):
            out.extend(Change(path, "removed", item, None) for item in old if item not in new)
            out.extend(Change(path, "added", None, item) for item in new if item not in old)
            return
    out.append(Change(path, "changed", old, new))


def diff_definitions(old: Mapping[str, Any] | CaseTypeDef, new: Mapping[str, Any] | CaseTypeDef) -> list[Change]:
    """Every difference from ``old`` to ``new``; reordering a keyed list is one "changed" entry."""
    changes: list[Change] = []
    _diff(_as_dict(old), _as_dict(new), "", changes)
    return changes


def _compact(value: Any) -> Any:
    """Drop unset (None) entries and write whole floats as integers, for display only."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _show(value: Any, limit: int = 120) -> str:
    value = _compact(value)
    text = value if isinstance(value, str) and value else json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_diff(changes: list[Change]) -> str:
    """One readable line per change: "+ path: new", "- path: old", "~ path: old -> new"."""
    lines = []
    for change in changes:
        if change.kind == "added":
            lines.append(f"+ {change.path}: {_show(change.after)}")
        elif change.kind == "removed":
            lines.append(f"- {change.path}: {_show(change.before)}")
        else:
            lines.append(f"~ {change.path}: {_show(change.before)} -> {_show(change.after)}")
    return "\n".join(lines)

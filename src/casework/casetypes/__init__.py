"""Case types: declarative definitions (YAML) of what a kind of case needs.

A case type names its custom fields (a JSON Schema), intake form, questionnaires, required
documents, outcomes, phase entry/exit criteria, plan templates, SLA targets, milestones and
the decision tables it uses. The shipped ones live in ``definitions/*.yaml`` with their seed
tables in ``definitions/tables/``.

Modules: ``model`` (the pydantic models), ``loader`` (YAML with file/line/field errors, the
shipped definitions), ``questionnaires``, ``criteria`` (declared criteria as domain checks)
and ``diff`` (structural differences between two versions).

``SEED_CASE_TYPES`` (key -> name) is read from the shipped files with a plain YAML parse so
that importing this package stays cheap; ``loader.shipped_case_types()`` validates them fully
(and a test keeps the two in agreement).
"""

from __future__ import annotations

from importlib import resources

import yaml

_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: this runs on every import
_ORDER = ("complaint", "support_ticket", "onboarding", "disputed_transaction")


def _seed_case_types() -> dict[str, str]:
    directory = resources.files(__name__).joinpath("definitions")
    found: dict[str, str] = {}
    for entry in directory.iterdir():
        if entry.name.endswith(".yaml"):
            data = yaml.load(entry.read_text(encoding="utf-8"), Loader=_FAST_LOADER)
            found[str(data["key"])] = str(data["name"])
    rank = {key: i for i, key in enumerate(_ORDER)}
    return {key: found[key] for key in sorted(found, key=lambda k: (rank.get(k, len(rank)), k))}


SEED_CASE_TYPES: dict[str, str] = _seed_case_types()

__all__ = ["SEED_CASE_TYPES"]

"""The shape of a declarative case type, as pydantic models.

A case type is data, not code: an institution adds or changes one by editing YAML. The models
therefore reject anything unknown (``extra="forbid"``) and check every cross-reference
(questionnaires named by criteria, fields named by intake and expressions, questions a
``show_if`` depends on) so a mistake is caught when the file is loaded, never when a case
reaches the phase that uses it. Cross-reference problems carry their location as a loc tuple
so the loader can point at the exact YAML line.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator, model_validator

from casework.decisions.expressions import ExpressionError, compile_expression, names_used
from casework.domain.lifecycle import Phase, Priority

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Hours = Annotated[float, Field(gt=0, le=24 * 3650)]
DecisionKind = Literal["screening", "risk", "routing", "next_action"]
DocumentCheckKind = Literal["mrz", "iban", "twoddoc"]
Loc = tuple[str | int, ...]

#: Roots an expression may read: the evaluation context built by the services.
CONTEXT_ROOTS = frozenset({"case", "fields", "answers", "risk"})
PRIORITY_ORDER: tuple[Priority, ...] = (Priority.P1, Priority.P2, Priority.P3, Priority.P4)


@functools.lru_cache(maxsize=2048)
def compiled_expression(text: str) -> Callable[[Mapping[str, Any]], Any]:
    """Compile once per distinct text: definitions are loaded once but evaluated per case."""
    return compile_expression(text)


def _expression(value: str) -> str:
    try:
        compiled_expression(value)
    except ExpressionError as exc:
        raise ValueError(str(exc)) from None
    return value


#: An expression string that must compile; the compiler's message becomes the validation error.
Expression = Annotated[str, AfterValidator(_expression)]


@dataclass(frozen=True)
class FieldProblem:
    """One invalid input, named by its dotted path (``fields.amount``) for a 422 problem report."""

    field: str
    message: str


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IntakeItem(_Model):
    field: str
    label: Text
    help: str = ""


class Question(_Model):
    key: Identifier
    text: Text
    type: Literal["text", "number", "integer", "boolean", "choice", "multichoice", "date"]
    required: bool = True
    options: list[Text] = []
    show_if: Expression | None = None
    help: str = ""

    @model_validator(mode="after")
    def _options_fit_type(self) -> Self:
        if self.type in ("choice", "multichoice"):
            if not self.options:
                raise ValueError(f"a {self.type} question needs options")
            if len(set(self.options)) != len(self.options):
                raise ValueError("options must be unique")
        elif self.options:
            raise ValueError(f"options are only allowed for choice and multichoice questions, not {self.type}")
        return self


class Questionnaire(_Model):
    key: Identifier
    title: Text
    phase: Phase = Phase.ASSESSMENT
    questions: list[Question] = Field(min_length=1)


class DocumentRequirement(_Model):
    kind: Identifier
    title: Text
    required: bool = True
    when: Expression | None = None
    four_eyes: bool = False  # validation needs two different reviewers
    #: Days a document of this kind is kept after its case closes (None: the type's ``document_retention_days``).
    retention_days: int | None = Field(default=None, ge=1, le=36500)
    #: Automated checks run after upload: "mrz" (identity documents), "iban" (bank details), "twoddoc" (2D-Doc barcodes).
    checks: list[DocumentCheckKind] = []
    #: Validated by the system when every automated check passes (never for a ``four_eyes`` kind).
    auto_validate: bool = False

    @field_validator("checks")
    @classmethod
    def _unique_checks(cls, value: list[str]) -> list[str]:
        if dup := _duplicates(value):
            raise ValueError(f"check '{dup[0]}' is listed twice")
        return value


_CRITERION_KINDS = (
    "questionnaire_complete",
    "min_goals",
    "fields_present",
    "decision_made",
    "tasks_done",
    "documents_received",
    "expression",
)


class Criterion(_Model):
    """Exactly one condition, plus an optional message shown when it is not met."""

    questionnaire_complete: str | None = None
    min_goals: int | None = Field(default=None, ge=1, le=100)
    fields_present: list[str] | None = Field(default=None, min_length=1)
    decision_made: DecisionKind | None = None
    tasks_done: bool | None = None
    documents_received: bool | None = None
    expression: Expression | None = None
    message: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in _CRITERION_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a criterion needs exactly one of {', '.join(_CRITERION_KINDS)}; got {', '.join(given) or 'none'}")
        if given[0] in ("tasks_done", "documents_received") and getattr(self, given[0]) is not True:
            raise ValueError(f"{given[0]} can only be true")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in _CRITERION_KINDS if getattr(self, k) is not None)

    @property
    def arg(self) -> object:
        return getattr(self, self.kind)

    @property
    def unmet_message(self) -> str:
        """The declared message, or one generated from the condition."""
        if self.message:
            return self.message
        kind, arg = self.kind, self.arg
        if kind == "questionnaire_complete":
            return f"questionnaire '{arg}' is not complete"
        if kind == "min_goals":
            return f"the plan needs at least {arg} goal{'s' if arg != 1 else ''}"
        if kind == "fields_present":
            return "fields not filled in: {missing}"
        if kind == "decision_made":
            return f"the {arg} decision has not been made"
        if kind == "tasks_done":
            return "open tasks remain"
        if kind == "documents_received":
            return "documents not received: {missing}"
        return f"condition not met: {arg}"


class PhaseRules(_Model):
    entry: list[Criterion] = []
    exit: list[Criterion] = []


class TaskTemplate(_Model):
    title: Text
    due_in_days: int = Field(ge=0, le=3650)
    description: str = ""


class GoalTemplate(_Model):
    title: Text
    description: str = ""
    when: Expression | None = None
    tasks: list[TaskTemplate] = []


class SlaTargets(_Model):
    """Time targets in hours: per phase and priority, and from intake to closure."""

    warn_before_fraction: float = Field(default=0.2, gt=0, lt=1)
    phases: dict[Phase, dict[Priority, Hours]] = {}
    resolution: dict[Priority, Hours] = {}

    def phase_hours(self, phase: Phase | str, priority: Priority | str) -> float | None:
        return self.phases.get(Phase(phase), {}).get(Priority(priority))

    def resolution_hours(self, priority: Priority | str) -> float | None:
        return self.resolution.get(Priority(priority))


class Milestone(_Model):
    """Reached when the case first enters ``phase``; due ``within_hours`` of intake."""

    key: Identifier
    title: Text
    phase: Phase
    within_hours: dict[Priority, Hours] = Field(min_length=1)


class DecisionBinding(_Model):
    table: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.-]+$")]
    mode: Literal["automatic", "recommend"] = "recommend"


def _duplicates(values: list[str]) -> list[str]:
    seen: set[str] = set()
    dups: list[str] = []
    for value in values:
        if value in seen and value not in dups:
            dups.append(value)
        seen.add(value)
    return dups


class CaseTypeDef(_Model):
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,62}$")]
    version: int = Field(ge=1)
    name: Text
    description: str = ""
    fields: dict[str, Any]
    intake: list[IntakeItem] = []
    questionnaires: list[Questionnaire] = []
    documents: list[DocumentRequirement] = []
    #: Days documents are kept after closure when their kind sets no ``retention_days`` (and for "other").
    document_retention_days: int = Field(default=3650, ge=1, le=36500)
    outcomes: list[Identifier] = Field(min_length=1)
    phases: dict[Phase, PhaseRules] = {}
    plan_templates: list[GoalTemplate] = []
    sla: SlaTargets = SlaTargets()
    milestones: list[Milestone] = []
    decisions: dict[DecisionKind, DecisionBinding] = {}
    priority_bands: dict[Priority, int] = {Priority.P1: 75, Priority.P2: 50, Priority.P3: 25}
    teams: list[Text] = []

    @field_validator("outcomes")
    @classmethod
    def _unique_outcomes(cls, value: list[str]) -> list[str]:
        if dup := _duplicates(value):
            raise ValueError(f"duplicate outcome '{dup[0]}'")
        return value

    @field_validator("priority_bands")
    @classmethod
    def _descending_bands(cls, value: dict[Priority, int]) -> dict[Priority, int]:
        bands = [(p, value[p]) for p in PRIORITY_ORDER if p in value]
        for (hi, hi_score), (lo, lo_score) in itertools.pairwise(bands):
            if hi_score <= lo_score:
                raise ValueError(f"bands must descend: {hi.value} ({hi_score}) must be above {lo.value} ({lo_score})")
        return value

    @model_validator(mode="after")
    def _cross_check(self, info: ValidationInfo) -> Self:
        """Collect cross-reference problems into the validation context (the loader's path, to
        keep every location), or raise them all at once for direct construction."""
        context = info.context if isinstance(info.context, dict) else {}
        problems = cross_problems(self, context.get("known_tables"))
        if isinstance(context.get("problems"), list):
            context["problems"].extend(problems)
        elif problems:
            raise ValueError("; ".join(f"{format_loc(loc)}: {msg}" for loc, msg in problems))
        return self

    def questionnaire(self, key: str) -> Questionnaire | None:
        return next((q for q in self.questionnaires if q.key == key), None)

    def priority_for_score(self, score: float) -> Priority:
        """The highest priority whose band the score reaches; P4 below every band."""
        for priority in PRIORITY_ORDER:
            band = self.priority_bands.get(priority)
            if band is not None and score >= band:
                return priority
        return Priority.P4

    @property
    def field_names(self) -> list[str]:
        return list(self.fields.get("properties", {}))

    def validate_fields(self, data: Mapping[str, Any]) -> list[FieldProblem]:
        """Check custom field values against the type's JSON Schema, one problem per field."""
        validator = _field_validator(json.dumps(self.fields, sort_keys=True))
        problems = [p for error in validator.iter_errors(dict(data)) for p in _field_problems(error)]
        return sorted(set(problems), key=lambda p: p.field)


# --- custom field values --------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _field_validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json), format_checker=FormatChecker())


def _field_problems(error: Any) -> list[FieldProblem]:
    path = ".".join(["fields", *(str(p) for p in error.absolute_path)])
    if error.validator == "required":
        missing = [name for name in error.validator_value if isinstance(error.instance, dict) and name not in error.instance]
        return [FieldProblem(f"{path}.{name}", "is required") for name in missing]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        return [FieldProblem(f"{path}.{name}", "is not a field of this case type") for name in error.instance if name not in known]
    if error.validator == "enum":
        message = "must be one of: " + ", ".join(str(v) for v in error.validator_value)
    elif error.validator == "type":
        message = f"must be of type {error.validator_value}"
    elif error.validator == "format":
        message = f"is not a valid {error.validator_value}" + (" (YYYY-MM-DD)" if error.validator_value == "date" else "")
    elif error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        sign = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[error.validator]
        message = f"must be {sign} {error.validator_value}"
    else:
        message = error.message
    return [FieldProblem(path, message)]


# --- cross-reference checks -----------------------------------------------------------------


def format_loc(loc: Loc) -> str:
    """("questionnaires", 0, "show_if") -> "questionnaires[0].show_if"."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _schema_problems(schema: dict[str, Any]) -> list[tuple[Loc, str]]:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [(("fields", *exc.path), f"not a valid JSON Schema: {exc.message}")]
    problems: list[tuple[Loc, str]] = []
    if schema.get("type") != "object":
        problems.append((("fields", "type"), "custom fields must be a JSON Schema of type object"))
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        problems.append((("fields",), "custom fields need a non-empty 'properties' mapping"))
        return problems
    if schema.get("additionalProperties") is not False:
        problems.append((("fields",), "custom fields must set additionalProperties: false so misspelt field names are rejected"))
    for name in properties:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name):
            problems.append((("fields", "properties", name), "field names must be lower-case identifiers (a-z, 0-9, _)"))
    for i, name in enumerate(schema.get("required", [])):
        if name not in properties:
            problems.append((("fields", "required", i), f"required field '{name}' is not in properties"))
    return problems


def _name_problems(text: str, defn: CaseTypeDef, loc: Loc, own: tuple[str, list[str]] | None = None) -> list[tuple[Loc, str]]:
    """Names an expression reads must exist. ``own`` is (questionnaire key, keys of the earlier
    questions) when checking a show_if: it may only depend on questions already asked."""
    problems: list[tuple[Loc, str]] = []
    fields = set(defn.field_names)
    questionnaires = {q.key: [x.key for x in q.questions] for q in defn.questionnaires}
    for name in sorted(names_used(text)):
        parts = name.split(".")
        root = parts[0]
        if root not in CONTEXT_ROOTS:
            problems.append((loc, f"unknown name '{name}' (expressions read case.*, fields.*, answers.* and risk.*)"))
        elif root == "fields" and len(parts) > 1 and parts[1] not in fields:
            problems.append((loc, f"'{name}': no custom field '{parts[1]}' in this case type"))
        elif root == "answers" and len(parts) > 1:
            if parts[1] not in questionnaires:
                problems.append((loc, f"'{name}': no questionnaire '{parts[1]}' in this case type"))
            elif len(parts) > 2 and parts[2] not in questionnaires[parts[1]]:
                problems.append((loc, f"'{name}': questionnaire '{parts[1]}' has no question '{parts[2]}'"))
            elif own is not None and parts[1] == own[0] and len(parts) > 2 and parts[2] not in own[1]:
                problems.append((loc, f"'{name}': show_if may only refer to earlier questions, and '{parts[2]}' is not before this one"))
    return problems


def cross_problems(defn: CaseTypeDef, known_tables: Collection[str] | None = None) -> list[tuple[Loc, str]]:
    """Every cross-reference problem of a structurally valid definition, with its location."""
    problems = _schema_problems(defn.fields)
    fields = set(defn.field_names)

    for i, item in enumerate(defn.intake):
        if item.field not in fields:
            problems.append((("intake", i, "field"), f"'{item.field}' is not a custom field of this case type"))
    if dup := _duplicates([item.field for item in defn.intake]):
        problems.append((("intake",), f"field '{dup[0]}' appears twice in intake"))

    if dup := _duplicates([q.key for q in defn.questionnaires]):
        problems.append((("questionnaires",), f"duplicate questionnaire key '{dup[0]}'"))
    for qi, questionnaire in enumerate(defn.questionnaires):
        keys = [q.key for q in questionnaire.questions]
        if dup := _duplicates(keys):
            problems.append((("questionnaires", qi, "questions"), f"duplicate question key '{dup[0]}'"))
        for i, question in enumerate(questionnaire.questions):
            if question.show_if:
                loc: Loc = ("questionnaires", qi, "questions", i, "show_if")
                problems += _name_problems(question.show_if, defn, loc, own=(questionnaire.key, keys[:i]))

    if dup := _duplicates([d.kind for d in defn.documents]):
        problems.append((("documents",), f"duplicate document kind '{dup[0]}'"))
    for i, doc in enumerate(defn.documents):
        if doc.when:
            problems += _name_problems(doc.when, defn, ("documents", i, "when"))
        if doc.auto_validate and doc.four_eyes:
            problems.append(
                (("documents", i, "auto_validate"), "a four_eyes kind needs two people to validate it, so it cannot auto_validate")
            )
        elif doc.auto_validate and not doc.checks:
            problems.append((("documents", i, "auto_validate"), "auto_validate needs at least one automated check in 'checks'"))

    for phase, rules in defn.phases.items():
        for which in ("entry", "exit"):
            for i, criterion in enumerate(getattr(rules, which)):
                loc = ("phases", phase.value, which, i, criterion.kind)
                if criterion.questionnaire_complete and defn.questionnaire(criterion.questionnaire_complete) is None:
                    problems.append((loc, f"unknown questionnaire '{criterion.questionnaire_complete}'"))
                for name in criterion.fields_present or []:
                    if name not in fields:
                        problems.append((loc, f"'{name}' is not a custom field of this case type"))
                if criterion.expression:
                    problems += _name_problems(criterion.expression, defn, loc)

    for i, goal in enumerate(defn.plan_templates):
        if goal.when:
            problems += _name_problems(goal.when, defn, ("plan_templates", i, "when"))

    if dup := _duplicates([m.key for m in defn.milestones]):
        problems.append((("milestones",), f"duplicate milestone key '{dup[0]}'"))

    if known_tables is not None:
        for kind, binding in defn.decisions.items():
            if binding.table not in known_tables:
                problems.append((("decisions", kind, "table"), f"unknown decision table '{binding.table}'"))
    return problems

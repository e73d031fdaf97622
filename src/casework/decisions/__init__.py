"""Decisions: a safe, FEEL-like expression language and DMN-style decision tables.

``compile_expression`` turns rule text into a closure over a context mapping; decision tables
(``parse_table`` -> ``compile_table`` -> ``CompiledTable.evaluate``) choose outputs such as a
risk score or a priority from case data, with an explanation for the audit trail. Nothing here
evaluates Python: see ``expressions`` for the safety rules and ``engine`` for the fast path.
"""

from casework.decisions.engine import CompiledTable
from casework.decisions.evaluation import Evaluation
from casework.decisions.expressions import Context, ExpressionError, compile_expression, compile_unary_test, names_used
from casework.decisions.model import (
    Aggregation,
    DecisionError,
    DecisionTable,
    HitPolicy,
    OutputType,
    Rule,
    TableError,
    TableInput,
    TableOutput,
)
from casework.decisions.tables import compile_table, parse_table, table_to_dict

__all__ = [
    "Aggregation",
    "CompiledTable",
    "Context",
    "DecisionError",
    "DecisionTable",
    "Evaluation",
    "ExpressionError",
    "HitPolicy",
    "OutputType",
    "Rule",
    "TableError",
    "TableInput",
    "TableOutput",
    "compile_expression",
    "compile_table",
    "compile_unary_test",
    "names_used",
    "parse_table",
    "table_to_dict",
]

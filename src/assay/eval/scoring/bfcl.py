"""BFCL's AST checker: is a model's function call one the possible answers allow?

The rules are those of the official checker (gorilla ``bfcl_eval/eval_checker/ast_eval/ast_checker.py`` and the
decoding steps of ``eval_runner.py``), written again here for Python functions only; every verdict and error
type agrees with it on the conformance set under ``tests/eval/fixtures/bfcl``. The rules, briefly:

* a call is ``{name: {param: value}}``; the possible answer gives, per parameter, the accepted values, ``""``
  among them meaning "may be left out";
* the function name must be the expected one (with ``.`` written ``_`` where the tools were sent that way);
  every required parameter must be given, no parameter outside the schema and the possible answer may be;
* types are compared exactly (``type(v) is int``: ``True`` is not an integer) except that an integer is
  accepted for a ``float``; a value of the type the possible answers have is a "variable" and compared as is;
  arrays are type-checked one level deep;
* strings compare after dropping spaces and ``,./-_*^`` and lowering the case (``'`` reads as ``"``); lists
  compare element by element with the same rule for their strings; dicts key by key, one level deep;
* other values compare with Python's ``==`` (so ``1 == 1.0``);
* parallel categories accept the calls in any order (each expected call matched greedily to the first
  unused call that passes); ``multiple`` and ``simple`` expect exactly one call;
* irrelevance: correct when no call decodes; relevance: correct when at least one does.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from dataclasses import dataclass
from typing import Any, Sequence

# The checker's Python reading of the schema's types ("tuple" arrives as a JSON list; "any" is checked as text).
PYTHON_TYPES: dict[str, type] = {"string": str, "integer": int, "float": float, "boolean": bool, "array": list,
                                 "tuple": list, "dict": dict, "any": str}
_NESTED = ("array", "tuple")
_STRIPPED = re.compile(r"[ ,./\-_*^]")

Call = dict[str, Any]  # {function name: {parameter: value}}


@dataclass(frozen=True)
class Verdict:
    """The checker's answer: ``valid``, and when not, the official ``error_type`` and a readable reason."""

    valid: bool
    error_type: str = ""
    error: str = ""
    is_variable: bool = False


OK = Verdict(True)


def _fail(error_type: str, error: str) -> Verdict:
    return Verdict(False, error_type, error)


# ---- decoding what the model sent -------------------------------------------------------------------------


class DecodeError(ValueError):
    """The model's output is not a list of function calls."""


def decode_tool_calls(calls: Sequence[tuple[str, str]] | None, text: str | None) -> list[Any]:
    """The calls as the official function-calling decoder reads them: ``[{name: json.loads(arguments)}]``.

    ``calls`` are ``(name, arguments JSON text)``; with none, the answer is its text, which decodes only when
    empty (to no call). Arguments that are not JSON raise ``DecodeError``; JSON that is not an object decodes
    but fails ``is_call_list``. Python's ``json`` is used as the official code does (it reads ``NaN``).
    """
    if not calls:
        if text:
            raise DecodeError("the answer is text, not function calls")
        return []
    decoded = []
    for name, arguments in calls:
        try:
            decoded.append({name: json.loads(arguments)})
        except (json.JSONDecodeError, TypeError) as exc:
            raise DecodeError(f"arguments of {name!r} are not JSON ({exc})") from None
    return decoded


def decode_python_calls(text: str) -> list[Any]:
    """The calls of a prompting-mode answer, ``[func(a=1), mod.g(b='x')]``, as the official decoder reads them.

    Surrounding backticks, newlines and spaces are dropped and brackets added where missing; the text is then
    parsed as a Python expression (never run). Keyword arguments only (positional ones are ignored, as
    officially); a name reads as its text, a call without keywords as its source, ``-x`` as the negative of a
    constant. One difference on purpose: the official decoder ``eval``s arithmetic (``a=2*3``); here only
    arithmetic on constants is computed, anything else (a name, a call) fails to decode.
    """
    body = text.strip("`\n ")
    if not body.startswith("["):
        body = "[" + body
    if not body.endswith("]"):
        body = body + "]"
    try:
        tree = ast.parse(body.strip().strip("'"), mode="eval").body
        if isinstance(tree, ast.Call):
            return [_python_call(tree)]
        elements = tree.elts  # type: ignore[attr-defined]
        if not all(isinstance(element, ast.Call) for element in elements):
            raise DecodeError("an element is not a function call")
        return [_python_call(element) for element in elements]
    except DecodeError:
        raise
    except (SyntaxError, ValueError, TypeError, AttributeError, RecursionError, ArithmeticError) as exc:
        raise DecodeError(f"not a list of Python calls ({exc.__class__.__name__})") from None


def _python_call(call: ast.Call) -> Call:
    parts, func = [], call.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return {".".join(reversed(parts)): {keyword.arg: _python_value(keyword.value) for keyword in call.keywords}}


def _python_value(node: Any) -> Any:
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp):
        return -node.operand.value  # type: ignore[attr-defined]  # the official reading: any unary op negates
    if isinstance(node, ast.List):
        return [_python_value(item) for item in node.elts]
    if isinstance(node, ast.Dict):
        return {_python_value(key): _python_value(value) for key, value in zip(node.keys, node.values)}
    if isinstance(node, ast.BinOp):
        return _arithmetic(node)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return ast.unparse(node) if not node.keywords else _python_call(node)
    if isinstance(node, ast.Tuple):
        return tuple(_python_value(item) for item in node.elts)
    if isinstance(node, ast.Subscript):
        return ast.unparse(node.value) + "[" + ast.unparse(node.slice) + "]"
    raise DecodeError(f"unsupported value {node.__class__.__name__}")


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
              ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
              ast.BitOr: operator.or_, ast.BitAnd: operator.and_, ast.BitXor: operator.xor,
              ast.LShift: operator.lshift, ast.RShift: operator.rshift}


def _arithmetic(node: Any) -> Any:
    """``2*3``, ``-1 + 0.5``, ``'a' + 'b'``: what ``eval`` gives for constants, without running anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, complex, str)):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_arithmetic(item) for item in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert)):
        value = _arithmetic(node.operand)
        return -value if isinstance(node.op, ast.USub) else +value if isinstance(node.op, ast.UAdd) else ~value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _arithmetic(node.left), _arithmetic(node.right)
        if isinstance(node.op, (ast.Pow, ast.LShift)) and isinstance(right, (int, float)) and abs(right) > 1000:
            raise DecodeError("exponent too large to compute")
        if isinstance(node.op, ast.Mult) and any(isinstance(v, (str, list, tuple)) for v in (left, right)) \
                and any(isinstance(v, int) and v > 100_000 for v in (left, right)):
            raise DecodeError("repetition too large to compute")
        return _OPERATORS[type(node.op)](left, right)
    raise DecodeError(f"arithmetic on {node.__class__.__name__} is not computed (the official decoder evals it)")


def is_call_list(decoded: Any) -> bool:
    """``[{name: {param: value}}, ...]``: a list of one-key dicts whose value is a dict (``[]`` included)."""
    return isinstance(decoded, list) and all(
        type(item) is dict and len(item) == 1 and type(next(iter(item.values()))) is dict for item in decoded)


def has_call(decoded: Any) -> bool:
    """The relevance reading: a call list with at least one call in it."""
    if not is_call_list(decoded) or len(decoded) == 0:
        return False
    return not (len(decoded) == 1 and len(decoded[0]) == 0)


# ---- grading one answer -----------------------------------------------------------------------------------


def grade_calls(category: str, functions: list[dict[str, Any]], ground_truth: list[Call] | None,
                calls: Sequence[tuple[str, str]] | None, text: str | None, *,
                dots_to_underscores: bool = True, prompting: bool = False) -> Verdict:
    """The verdict on one answer of ``category`` (decode, then relevance or the AST check).

    Function-calling mode reads ``calls``; ``prompting`` mode reads the calls the ``text`` writes out.
    """
    try:
        decoded = decode_python_calls(text or "") if prompting else decode_tool_calls(calls, text)
    except DecodeError as exc:
        decoded, failure = None, str(exc)
    if "relevance" in category:  # irrelevance, live_irrelevance, live_relevance
        contains = decoded is not None and has_call(decoded)
        if "irrelevance" in category:
            return OK if not contains else _fail("irrelevance_error:decoder_success",
                                                 "a function was called where none applies")
        return OK if contains else _fail("relevance_error:decoder_failed", "no function call decoded")
    if decoded is None:
        return _fail("ast_decoder:decoder_failed", failure)
    if not is_call_list(decoded):
        return _fail("ast_decoder:decoder_wrong_output_format", "the calls' arguments are not JSON objects")
    return check_ast(category, functions, decoded, ground_truth or [], dots_to_underscores=dots_to_underscores)


def check_ast(category: str, functions: list[dict[str, Any]], calls: list[Call], ground_truth: list[Call], *,
              dots_to_underscores: bool = True) -> Verdict:
    """The AST check of decoded ``calls`` against ``ground_truth`` (the official ``ast_checker``)."""
    if "parallel" in category:
        return _parallel(functions, calls, ground_truth, dots_to_underscores)
    if "multiple" in category:
        if len(calls) != len(ground_truth):
            return _fail("multiple_function_checker:wrong_count", "wrong number of functions")
        expected = next(iter(ground_truth[0]))
        return check_call(_describe(functions, expected), calls[0], ground_truth[0], dots_to_underscores)
    if len(calls) != 1:
        return _fail("simple_function_checker:wrong_count", "wrong number of functions")
    return check_call(functions[0], calls[0], ground_truth[0], dots_to_underscores)


def _describe(functions: list[dict[str, Any]] | dict[str, Any], name: str) -> Any:
    if isinstance(functions, dict):
        return functions
    return next((function for function in functions if function["name"] == name), None)


def _parallel(functions: list[dict[str, Any]], calls: list[Call], ground_truth: list[Call],
              dots_to_underscores: bool) -> Verdict:
    if len(calls) != len(ground_truth):
        return _fail("parallel_function_checker_no_order:wrong_count", "wrong number of functions")
    used: set[int] = set()
    for position, expected in enumerate(ground_truth):
        description = _describe(functions, next(iter(expected)))
        verdict = OK
        for index, call in enumerate(calls):
            if index in used:
                continue
            verdict = check_call(description, call, expected, dots_to_underscores)
            if verdict.valid:
                used.add(index)
                break
        if not verdict.valid:
            return _fail("parallel_function_checker_no_order:cannot_find_match",
                         f"no call matches expected call {position} ({verdict.error})")
    return OK


def expected_name(name: str, dots_to_underscores: bool) -> str:
    """The name a call must have: function-calling APIs allow no ``.`` in names, so tools go out with ``_``."""
    return name.replace(".", "_") if dots_to_underscores else name


def check_call(description: dict[str, Any], call: Call, expected: Call, dots_to_underscores: bool = True) -> Verdict:
    """One call against one expected call (the official ``simple_function_checker``, Python types)."""
    possible = next(iter(expected.values()))
    name = expected_name(description["name"], dots_to_underscores)
    schema = description["parameters"]["properties"]
    if name not in call:
        return _fail("simple_function_checker:wrong_func_name", f"function {name!r} not called")
    given = call[name]
    for param in description["parameters"]["required"]:
        if param not in given:
            return _fail("simple_function_checker:missing_required", f"missing required parameter {param!r}")
    for param, value in given.items():
        if param not in schema or param not in possible:
            return _fail("simple_function_checker:unexpected_param", f"unexpected parameter {param!r}")
        verdict = _check_param(param, value, schema[param], possible[param])
        if not verdict.valid:
            return verdict
    for param, accepted in possible.items():
        if param not in given and "" not in accepted:
            return _fail("simple_function_checker:missing_optional", f"parameter {param!r} not given, and not optional")
    return OK


def _check_param(param: str, value: Any, schema: dict[str, Any], accepted: list[Any]) -> Verdict:
    kind = schema["type"]
    expected = PYTHON_TYPES[kind]
    nested = PYTHON_TYPES[schema["items"]["type"]] if kind in _NESTED else None
    if kind == "tuple" and type(value) is tuple:
        value = list(value)  # possible answers hold tuples as JSON lists (a list is accepted too)
    if kind == "float" and type(value) is int:
        value = float(value)  # Python's own int → float promotion
    typed = check_type(param, value, accepted, expected, nested)
    if not typed.valid:
        return typed
    if not typed.is_variable:
        if expected is dict:
            return check_dict(param, value, accepted)
        if expected is list and nested is dict:
            return check_list_of_dicts(param, value, accepted)
        if expected is str:
            return check_string(param, value, accepted)
        if expected is list:
            return check_list(param, value, accepted)
    if value not in accepted:
        return _fail("value_error:others", f"{param!r}: {value!r} is not one of {accepted!r}")
    return OK


def _answer_type(accepted: list[Any]) -> type | None:
    return next((type(answer) for answer in accepted if answer != ""), None)


def check_type(param: str, value: Any, accepted: list[Any], expected: type, nested: type | None) -> Verdict:
    """The value's type: the schema's, or that of the possible answers (a "variable", compared as is).

    Arrays are checked one level deep: every element against one of the accepted lists' element type.
    """
    answer_type = _answer_type(accepted)
    is_variable = answer_type is not None and answer_type is not expected
    failed: Verdict | None = None
    if type(value) is expected:
        if nested is None:
            return Verdict(True, is_variable=is_variable)
        for answer in accepted:
            fits = True
            if type(answer) is list:
                fits = all(check_type(param, item, answer, nested, None).valid for item in value)
            if fits:
                return Verdict(True, is_variable=is_variable)
        failed = _fail("type_error:nested", f"{param!r}: an element is not {nested.__name__}")
    if answer_type is not None and type(value) is answer_type:
        return failed or Verdict(True, is_variable=True)
    return _fail("type_error:simple", f"{param!r}: expected {expected.__name__}, got {type(value).__name__}")


def standardize(text: str) -> str:
    """The official string normalisation: no spaces or ``,./-_*^``, lower case, ``'`` as ``"``."""
    return _STRIPPED.sub("", text).lower().replace("'", '"')


def _standard(value: Any) -> Any:
    return standardize(value) if type(value) is str else value


def check_string(param: str, value: str, accepted: list[Any]) -> Verdict:
    if standardize(value) not in [standardize(a) for a in accepted if type(a) is str]:
        return _fail("value_error:string", f"{param!r}: {value!r} is not one of {accepted!r}")
    return OK


def check_list(param: str, value: list[Any], accepted: list[Any]) -> Verdict:
    # Each accepted answer is iterated as a sequence: the optional marker "" reads as the empty list.
    if [_standard(item) for item in value] not in [[_standard(item) for item in answer] for answer in accepted]:
        return _fail("value_error:list/tuple", f"{param!r}: {value!r} is not one of {accepted!r}")
    return OK


def check_dict(param: str, value: dict[str, Any], accepted: list[Any]) -> Verdict:
    """A dict against each accepted dict (one level deep): no unknown key, every value accepted, every
    non-optional key present."""
    verdict = _fail("dict_checker:unclear", f"{param!r}: no accepted dict")
    for answer in accepted:
        if answer == "":
            continue
        verdict = _dict_matches(value, answer)
        if verdict.valid:
            return OK
    return verdict


def _dict_matches(value: dict[str, Any], answer: dict[str, Any]) -> Verdict:
    # As the official checker: the missing-key scan runs even after a bad key or value, and its error wins.
    verdict = OK
    for key, item in value.items():
        if key not in answer:
            verdict = _fail("value_error:dict_key", f"unexpected dict key {key!r}")
            break
        if _standard(item) not in [_standard(a) for a in answer[key]]:
            verdict = _fail("value_error:dict_value", f"dict key {key!r}: {item!r} is not one of {answer[key]!r}")
            break
    missing = [key for key, options in answer.items() if key not in value and "" not in options]
    return _fail("value_error:dict_key", f"missing dict key {missing[0]!r}") if missing else verdict


def check_list_of_dicts(param: str, value: list[Any], accepted: list[Any]) -> Verdict:
    """A list of dicts against each accepted list, dict by dict in order."""
    verdict = _fail("list_dict_checker:unclear", f"{param!r}: no accepted list")
    for answer in accepted:
        if len(value) != len(answer):
            verdict = _fail("value_error:list_dict_count", f"{param!r}: wrong number of dicts")
            continue
        for item, expected in zip(value, answer):
            verdict = check_dict(param, item, [expected])
            if not verdict.valid:
                break
        else:
            return OK
    return verdict


# ---- the leaderboard's aggregates -------------------------------------------------------------------------

NON_LIVE_AST = ("simple", "multiple", "parallel", "parallel_multiple")
LIVE_AST = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple")


@dataclass(frozen=True)
class Aggregate:
    """One leaderboard column: the categories it averages and how (``weighted`` by their sample counts, or the
    plain mean of their accuracies)."""

    name: str
    categories: tuple[str, ...]
    weighted: bool


# The BFCL v3 leaderboard's columns (eval_runner_helper.py before the v4 release), Python categories only.
AGGREGATES = (
    Aggregate("non_live_ast_acc", NON_LIVE_AST, weighted=False),  # "Non-Live AST Summary"
    Aggregate("non_live_acc", (*NON_LIVE_AST, "irrelevance"), weighted=False),  # "Non_Live Overall Acc"
    Aggregate("live_ast_acc", LIVE_AST, weighted=True),  # "Live AST Summary"
    Aggregate("live_acc", (*LIVE_AST, "live_irrelevance", "live_relevance"), weighted=True),  # "Live Overall Acc"
    Aggregate("irrelevance_acc", ("irrelevance", "live_irrelevance"), weighted=False),  # "Irrelevance Detection"
    Aggregate("relevance_acc", ("live_relevance",), weighted=False),  # "Relevance Detection"
)
SINGLE_TURN = "single_turn_acc"  # the mean of non_live_acc and live_acc (v3's single_turn_ast)


def aggregate_scores(categories: dict[str, tuple[float, int]]) -> dict[str, tuple[float, int]]:
    """Each leaderboard column whose categories all have a score: ``{name: (accuracy, samples)}``.

    ``categories`` maps a category to ``(accuracy, samples graded)``. A column missing a category is left out
    (the leaderboard would count the missing one as 0).
    """
    out: dict[str, tuple[float, int]] = {}
    for aggregate in AGGREGATES:
        if not all(category in categories for category in aggregate.categories):
            continue
        parts = [categories[category] for category in aggregate.categories]
        count = sum(n for _, n in parts)
        if aggregate.weighted:
            value = sum(acc * n for acc, n in parts) / count if count else 0.0
        else:
            value = sum(acc for acc, _ in parts) / len(parts)
        out[aggregate.name] = (value, count)
    if "non_live_acc" in out and "live_acc" in out:
        (non_live, a), (live, b) = out["non_live_acc"], out["live_acc"]
        out[SINGLE_TURN] = ((non_live + live) / 2, a + b)
    return out

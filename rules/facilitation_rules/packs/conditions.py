"""``when:`` filters: course-team conditions in the rule-engine expression language.

rule-engine (zeroSteiner/rule-engine) evaluates expressions such as
``thread_type == "question" and word_count > 20`` against a mapping. It has no imports, no
function definitions and no attribute access to Python internals; we compile every
expression when the pack loads with a type resolver that knows exactly the symbols below,
so an unknown name or a type mismatch fails validation.

A filter runs on what learners write, so its cost is bounded when it is compiled, never
left to the input (issue 16): the text is at most ``MAX_CHARS`` long and nests at most
``MAX_NESTING`` brackets deep (rule-engine's parser recurses: 20,000 terms would end in a
RecursionError); the compiled tree has at most ``MAX_NODES`` nodes and no comprehensions
(``[x for x in ...]`` multiplies the work by the input's length at each level); every
``=~`` pattern is a quoted literal compiled with RE2, which matches in time linear in the
input (``(a+)+$`` on ``aaaa…!`` would backtrack for ever with Python's ``re``), and refused
when RE2 cannot run it (backreferences, lookarounds). Each evaluation then reads at most
``MAX_INPUT_CHARS`` of each text: its budget is a bounded number of linear steps.

An evaluation that fails (``word_count / 0 > 1``) counts as no match, as before, but is
counted on its ``Condition`` (``errors``, ``last_error``): replay's summary warns about it and
the worker exports it as a metric, so a filter that silently switches a rule off is seen.

Filters run only where a rule is about to start watching a subject or fire, never on every
event (``make bench`` measures their cost). rule-engine is imported only when a pack has a
filter: building its parser takes about 0.7 s, which every CLI run would pay otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import rule_engine

# The names of rule_engine.DataType members.
_S, _F, _B = "STRING", "FLOAT", "BOOLEAN"

#: Longest ``when:`` text accepted (the default pack's examples are under 50 characters).
MAX_CHARS: Final = 1000
#: Deepest nesting of ( [ { accepted.
MAX_NESTING: Final = 16
#: Most nodes in a compiled condition (comparisons, names, literals, operators).
MAX_NODES: Final = 200
#: Characters of each text value an evaluation reads (post excerpts are shorter).
MAX_INPUT_CHARS: Final = 4000
#: RE2's memory budget for one pattern (its default is 8 MiB).
_RE2_MAX_MEM: Final = 1 << 20

#: Symbols a ``when:`` of each rule may use, with their types.
POST_SYMBOLS: dict[str, str] = {
    "course_id": _S,
    "post_kind": _S,
    "thread_type": _S,
    "title": _S,
    "body_excerpt": _S,
    "word_count": _F,
    "anonymous": _B,
    "author_role": _S,
}
LEARNER_SYMBOLS: dict[str, str] = {
    "course_id": _S,
    "learner_id": _S,
    "enrolled": _B,
    "posts": _F,
    "reflections": _F,
    "replies_received": _F,
    "active_days": _F,
    "days_since_active": _F,
}
DROPOUT_SYMBOLS: dict[str, str] = {**LEARNER_SYMBOLS, "risk_score": _F}
REFLECTION_SYMBOLS: dict[str, str] = {
    "course_id": _S,
    "prompt_id": _S,
    "word_count": _F,
    "shared": _B,
}
SYMBOLS_BY_RULE: dict[str, dict[str, str]] = {
    "unanswered_post": POST_SYMBOLS,
    "silent_learner": LEARNER_SYMBOLS,
    "dropout_risk": DROPOUT_SYMBOLS,
    "reflection": LEARNER_SYMBOLS,
}


class ConditionError(ValueError):
    """A ``when:`` expression that does not parse, type-check or fit its bounds."""


class Condition:
    """A compiled ``when:`` filter and the count of its evaluations that failed."""

    __slots__ = ("errors", "label", "last_error", "rule", "text")

    def __init__(self, rule: rule_engine.Rule, text: str, label: str = "when") -> None:
        self.rule = rule
        self.text = text
        #: where the pack sets it, e.g. ``rules.unanswered_post.when``
        self.label = label
        self.errors = 0
        self.last_error = ""

    def matches(self, values: Mapping[str, Any]) -> bool:
        """Whether ``values`` pass; a failed evaluation is counted and does not pass."""
        bounded = {
            name: value[:MAX_INPUT_CHARS]
            if type(value) is str and len(value) > MAX_INPUT_CHARS
            else value
            for name, value in values.items()
        }
        try:
            return bool(self.rule.matches(bounded))
        except Exception as err:  # rule-engine's errors, and arithmetic ones it lets through
            self.errors += 1
            self.last_error = str(err) or type(err).__name__
            return False


def _shape_problem(text: str) -> str | None:
    """Why ``text`` is too big for the parser, before it is parsed (None: it is not)."""
    if len(text) > MAX_CHARS:
        return f"the condition is {len(text):,} characters long; at most {MAX_CHARS:,}"
    depth = deepest = 0
    quote = ""
    escaped = False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    if deepest > MAX_NESTING:
        return f"brackets nest {deepest} deep; at most {MAX_NESTING}"
    return None


def _nodes(root: Any) -> Iterator[Any]:
    """Every node of a compiled rule-engine tree, from its attributes and slots."""
    from rule_engine.ast import ExpressionBase

    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        fields = list(getattr(node, "__dict__", {}).items())
        for cls in type(node).__mro__:
            fields += [(s, getattr(node, s, None)) for s in getattr(cls, "__slots__", ())]
        values = [value for name, value in fields if name != "context"]
        while values:
            value = values.pop()
            if isinstance(value, ExpressionBase):
                stack.append(value)
            elif isinstance(value, tuple | list):
                values.extend(value)  # array, set and mapping literals: (key, value) pairs


def _linear_patterns(rule: rule_engine.Rule) -> None:
    """Count the tree's nodes, refuse comprehensions, and give every ``=~`` an RE2 pattern."""
    import re2
    import rule_engine.ast as ast

    options = re2.Options()
    options.max_mem = _RE2_MAX_MEM
    options.log_errors = False  # the error is the user's to read, in our words
    count = 0
    for node in _nodes(rule.statement.expression):
        count += 1
        if count > MAX_NODES:
            raise ConditionError(f"the condition has more than {MAX_NODES} parts")
        if isinstance(node, ast.ComprehensionExpression):
            raise ConditionError("comprehensions ([... for ... in ...]) are not allowed")
        if not isinstance(node, ast.FuzzyComparisonExpression):
            continue
        if not isinstance(node.right, ast.StringExpression):
            raise ConditionError("the pattern after =~ or !~ must be a quoted string")
        pattern = node.right.value
        try:
            # rule-engine calls .match/.search and reads .groups(): RE2's objects have them.
            node._right = re2.compile(pattern, options)
        except re2.error as err:
            why = err.args[0].decode() if err.args and isinstance(err.args[0], bytes) else err
            raise ConditionError(
                f"the pattern {pattern!r} cannot run in linear time ({why}): "
                "backreferences and lookarounds are not supported"
            ) from None


def compile_condition(text: str, symbols: Mapping[str, str], label: str = "when") -> Condition:
    problem = _shape_problem(text)
    if problem is not None:
        raise ConditionError(problem)
    import rule_engine

    types = {name: getattr(rule_engine.DataType, kind) for name, kind in symbols.items()}
    context = rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(types))
    try:
        rule = rule_engine.Rule(text, context=context)
    except rule_engine.errors.SymbolResolutionError as err:
        known = ", ".join(sorted(symbols))
        raise ConditionError(f"unknown name {err.symbol_name!r} (known: {known})") from None
    except rule_engine.errors.RuleSyntaxError as err:
        where = f" near {err.token.value!r}" if err.token is not None else " (incomplete)"
        raise ConditionError(f"syntax error{where}") from None
    except rule_engine.errors.EngineError as err:
        raise ConditionError(err.message) from None
    except RecursionError:  # an operator chain the bracket check cannot see (- - - - x)
        raise ConditionError("the condition nests too deeply") from None
    except ArithmeticError as err:  # constant folding at compile time (2 ** 1e9)
        raise ConditionError(f"arithmetic error: {err}") from None
    _linear_patterns(rule)
    return Condition(rule, text, label)


def passes(condition: Condition | None, values: Mapping[str, Any]) -> bool:
    """True when there is no condition or it matches ``values``; errors count as no match
    (and are counted on the condition)."""
    return True if condition is None else condition.matches(values)

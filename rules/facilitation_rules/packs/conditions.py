"""``when:`` filters: course-team conditions in the rule-engine expression language.

rule-engine (zeroSteiner/rule-engine) evaluates expressions such as
``thread_type == "question" and word_count > 20`` against a mapping. It has no imports, no
function definitions, no loops over unbounded input and no attribute access to Python
internals; we compile every expression when the pack loads with a type resolver that knows
exactly the symbols below, so an unknown name or a type mismatch fails validation.

Filters run only where a rule is about to start watching a subject or fire, never on every
event (``make bench`` measures their cost). rule-engine is imported only when a pack has a
filter: building its parser takes about 0.7 s, which every CLI run would pay otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import rule_engine

# The names of rule_engine.DataType members.
_S, _F, _B = "STRING", "FLOAT", "BOOLEAN"

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
    """A ``when:`` expression that does not parse or type-check; ``str`` says why."""


def compile_condition(text: str, symbols: Mapping[str, str]) -> rule_engine.Rule:
    import rule_engine

    types = {name: getattr(rule_engine.DataType, kind) for name, kind in symbols.items()}
    context = rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(types))
    try:
        return rule_engine.Rule(text, context=context)
    except rule_engine.errors.SymbolResolutionError as err:
        known = ", ".join(sorted(symbols))
        raise ConditionError(f"unknown name {err.symbol_name!r} (known: {known})") from None
    except rule_engine.errors.RuleSyntaxError as err:
        where = f" near {err.token.value!r}" if err.token is not None else " (incomplete)"
        raise ConditionError(f"syntax error{where}") from None
    except rule_engine.errors.EngineError as err:
        raise ConditionError(err.message) from None


def passes(condition: Any, values: Mapping[str, Any]) -> bool:
    """True when there is no condition or it matches ``values``; errors count as no match."""
    if condition is None:
        return True
    import rule_engine  # imported already: the condition was compiled

    try:
        return bool(condition.matches(values))
    except rule_engine.errors.EngineError:
        return False

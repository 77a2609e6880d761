"""Policy eligibility rules: a typed JsonLogic subset, evaluated in Python and compiled to SQL.

Grammar (one operator per JSON object)::

    rule  := {"and": [rule, ...]} | {"or": [rule, ...]} | {"!": rule} | {"not": rule}
           | {op: [var, literal]}          op in == != < <= > >=   (the literal may come first)
           | {"in": [var, [literal, ...]]} membership in a non-empty literal list
           | {"between": [var, lo, hi]}    lo <= value <= hi
           | true | false                  matches everyone / no one
    var   := {"var": "attribute"}

Unlike full JsonLogic there is no type coercion: every literal must have the attribute's type
(``"60"`` never equals ``60``), ordering operators apply to integer attributes only, and
attributes are never compared with each other. This keeps the Python and SQL evaluators
trivially equivalent and turns authoring mistakes into a 422 instead of a silent "nobody".

Missing attributes. A profile may lack an attribute (``None``, or an absent key; NULL in SQL).
Every comparison on a missing attribute is *false* -- ``==``, ``!=``, ``in`` and ``between``
alike -- and ``!`` simply negates that boolean, so ``{"!": {"==": [{"var": "hukou"}, true]}}``
holds for a person with unknown hukou while ``{"!=": [{"var": "hukou"}, true]}`` does not.
SQL gets the same two-valued logic by compiling every comparison to
``attr IS NOT NULL AND attr <op> literal``: literals are never NULL, so the conjunction is
never NULL either, and NOT/AND/OR never see an unknown.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

Subject = Literal["person", "enterprise"]

MAX_DEPTH = 16
MAX_NODES = 200
# Literal integers stay inside a 32-bit range so every database binds them the same way.
INT_LIMIT = 2**31 - 1
MAX_STRING_LENGTH = 200


class AttrType(enum.Enum):
    INT = ("integer", "整数")
    STR = ("text", "文本")
    BOOL = ("boolean", "布尔值")

    @property
    def en(self) -> str:
        return self.value[0]

    @property
    def zh(self) -> str:
        return self.value[1]


@dataclass(frozen=True)
class Attribute:
    name: str
    type: AttrType
    subjects: frozenset[str]
    choices: tuple[str, ...] | None = None


_PERSON = frozenset({"person"})
_ENTERPRISE = frozenset({"enterprise"})
_BOTH = _PERSON | _ENTERPRISE

ATTRIBUTES: dict[str, Attribute] = {
    a.name: a
    for a in (
        Attribute("age", AttrType.INT, _PERSON),
        Attribute("district", AttrType.STR, _BOTH),
        Attribute("hukou", AttrType.BOOL, _PERSON),
        Attribute("veteran", AttrType.BOOL, _PERSON),
        Attribute("disabled", AttrType.BOOL, _PERSON),
        Attribute("living_alone", AttrType.BOOL, _PERSON),
        Attribute("industry", AttrType.STR, _ENTERPRISE),
        Attribute("size", AttrType.STR, _ENTERPRISE, ("micro", "small", "medium", "large")),
        Attribute("years_since_founding", AttrType.INT, _ENTERPRISE),
    )
}

_SUBJECT_ZH = {"person": "个人", "enterprise": "企业"}
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
ORDERED = frozenset({"<", "<=", ">", ">=", "between"})
# Swapping the operands of `literal op var` gives `var flipped op literal`.
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class RuleError(Exception):
    """An invalid rule; ``path`` is a JSON Pointer into the submitted rule."""

    def __init__(self, path: str, message_en: str, message_zh: str) -> None:
        super().__init__(f"{path or '/'}: {message_en}")
        self.path = path
        self.message_en = message_en
        self.message_zh = message_zh


# ---------------------------------------------------------------------------------------------
# Parsed form


@dataclass(frozen=True)
class Const:
    value: bool


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Compare:
    """``attribute op value``; value is a tuple for ``in`` and a (lo, hi) pair for ``between``."""

    attribute: str
    op: str
    value: Any


Node = Const | Not | And | Or | Compare


@dataclass(frozen=True)
class Rule:
    """A validated rule, parsed once and then evaluated or compiled many times."""

    root: Node
    subject: Subject | None

    @property
    def attributes(self) -> frozenset[str]:
        """Attributes the rule reads, so a caller knows which SQL columns to supply."""
        return frozenset(c.attribute for c, _ in _leaves(self.root, negated=False))

    def evaluate(self, profile: Mapping[str, Any]) -> bool:
        return _evaluate(self.root, profile)

    def explain(self, profile: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Each leaf condition and whether it held; ``negated`` marks leaves under an odd number
        of ``!``, where holding counts *against* eligibility."""
        out: list[dict[str, Any]] = []
        for leaf, negated in _leaves(self.root, negated=False):
            value = list(leaf.value) if isinstance(leaf.value, tuple) else leaf.value
            out.append(
                {
                    "attribute": leaf.attribute,
                    "op": leaf.op,
                    "value": value,
                    "actual": profile.get(leaf.attribute),
                    "held": _holds(leaf, profile.get(leaf.attribute)),
                    "negated": negated,
                }
            )
        return out

    def to_sql(self, columns: Mapping[str, ColumnElement[Any]]) -> ColumnElement[bool]:
        return _to_sql(self.root, columns)


# ---------------------------------------------------------------------------------------------
# Public functions


def parse(rule: Any, subject: Subject | None = None) -> Rule:
    """Validate ``rule`` and return its parsed form. ``subject=None`` admits every attribute."""
    if subject is not None and subject not in _SUBJECT_ZH:
        raise ValueError(f"unknown subject {subject!r}")
    return Rule(_Parser(subject).node(rule, "", 1), subject)


def validate(rule: Any, subject: Subject = "person") -> None:
    """Raise :class:`RuleError` if ``rule`` is not a valid rule for ``subject``."""
    parse(rule, subject)


def evaluate(rule: Any | Rule, profile: Mapping[str, Any], subject: Subject | None = None) -> bool:
    return _as_rule(rule, subject).evaluate(profile)


def explain(
    rule: Any | Rule, profile: Mapping[str, Any], subject: Subject | None = None
) -> list[dict[str, Any]]:
    return _as_rule(rule, subject).explain(profile)


def compile_sql(
    rule: Any | Rule,
    columns: Mapping[str, ColumnElement[Any]],
    subject: Subject | None = None,
) -> ColumnElement[bool]:
    """A boolean SQL expression equal to :func:`evaluate` row by row (never NULL).

    ``columns`` maps each attribute the rule uses to a SQL expression, e.g. an age computed
    from a birth date column.
    """
    return _as_rule(rule, subject).to_sql(columns)


def _as_rule(rule: Any | Rule, subject: Subject | None) -> Rule:
    return rule if isinstance(rule, Rule) else parse(rule, subject)


# ---------------------------------------------------------------------------------------------
# Validation


def _describe(value: Any) -> tuple[str, str]:
    """The English and Chinese name of a JSON literal's type."""
    if isinstance(value, bool):
        return AttrType.BOOL.value
    if isinstance(value, int | float):
        return ("number", "数字")
    if isinstance(value, str):
        return AttrType.STR.value
    if value is None:
        return ("null", "空值")
    if isinstance(value, list):
        return ("list", "列表")
    return ("object", "对象")


class _Parser:
    def __init__(self, subject: Subject | None) -> None:
        self.subject = subject
        self.nodes = 0

    def count(self, path: str, n: int = 1) -> None:
        self.ensure_room(path, n)
        self.nodes += n

    def ensure_room(self, path: str, n: int) -> None:
        """Checked before walking a list, so a huge list fails before any recursion."""
        if self.nodes + n > MAX_NODES:
            raise RuleError(
                path, f"rule has more than {MAX_NODES} nodes", f"规则超过 {MAX_NODES} 个节点"
            )

    def node(self, raw: Any, path: str, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise RuleError(
                path, f"rule is nested deeper than {MAX_DEPTH} levels", f"规则嵌套超过 {MAX_DEPTH} 层"
            )
        self.count(path)
        if isinstance(raw, bool):
            return Const(raw)
        if not isinstance(raw, dict) or len(raw) != 1:
            raise RuleError(
                path,
                "a condition must be an object with exactly one operator, or true/false",
                "条件必须是只含一个运算符的对象，或 true/false",
            )
        ((op, args),) = raw.items()
        here = f"{path}/{_escape(op)}"
        if op in ("and", "or"):
            if not isinstance(args, list) or not args:
                raise RuleError(
                    here,
                    f'"{op}" takes a non-empty list of conditions',
                    f"“{op}”需要一个非空的条件列表",
                )
            self.ensure_room(here, len(args))
            children = tuple(self.node(a, f"{here}/{i}", depth + 1) for i, a in enumerate(args))
            return And(children) if op == "and" else Or(children)
        if op in ("!", "not"):
            if isinstance(args, list):
                self._arity(here, op, args, 1)
                return Not(self.node(args[0], f"{here}/0", depth + 1))
            return Not(self.node(args, here, depth + 1))
        if op in COMPARISONS:
            return self._comparison(op, args, here)
        if op == "in":
            return self._membership(args, here)
        if op == "between":
            return self._between(args, here)
        if op == "var":
            raise RuleError(
                path,
                "an attribute alone is not a condition; compare it, "
                'e.g. {"==": [{"var": "hukou"}, true]}',
                '单独的属性不是条件，请进行比较，例如 {"==": [{"var": "hukou"}, true]}',
            )
        raise RuleError(here, f'unknown operator "{op}"', f"未知的运算符“{op}”")

    @staticmethod
    def _arity(path: str, op: str, args: Any, n: int) -> None:
        if not isinstance(args, list) or len(args) != n:
            raise RuleError(
                path, f'"{op}" takes exactly {n} arguments', f"“{op}”需要恰好 {n} 个参数"
            )

    @staticmethod
    def _is_var(raw: Any) -> bool:
        return isinstance(raw, dict) and len(raw) == 1 and "var" in raw

    def _attribute(self, raw: Any, path: str) -> Attribute:
        self.count(path)
        name = raw["var"]
        if isinstance(name, list) and len(name) == 1:
            name = name[0]
        if not isinstance(name, str):
            raise RuleError(
                f"{path}/var", "an attribute name must be a string", "属性名必须是字符串"
            )
        attr = ATTRIBUTES.get(name)
        if attr is None:
            known = ", ".join(
                a.name
                for a in ATTRIBUTES.values()
                if self.subject is None or self.subject in a.subjects
            )
            raise RuleError(
                f"{path}/var",
                f'unknown attribute "{name}" (known: {known})',
                f"未知的属性“{name}”（可用：{known}）",
            )
        if self.subject is not None and self.subject not in attr.subjects:
            raise RuleError(
                f"{path}/var",
                f'attribute "{name}" does not apply to {self.subject} rules',
                f"属性“{name}”不适用于{_SUBJECT_ZH[self.subject]}规则",
            )
        return attr

    def _literal(self, attr: Attribute, value: Any, path: str) -> Any:
        self.count(path)
        if value is None:
            raise RuleError(
                path,
                "null is not a valid value; a missing attribute never matches any comparison",
                "不能使用空值；缺失的属性不满足任何比较",
            )
        matches = {
            AttrType.BOOL: isinstance(value, bool),
            AttrType.INT: isinstance(value, int) and not isinstance(value, bool),
            AttrType.STR: isinstance(value, str),
        }[attr.type]
        if not matches:
            got_en, got_zh = _describe(value)
            raise RuleError(
                path,
                f'attribute "{attr.name}" is {attr.type.en} and cannot be compared with a {got_en}',
                f"属性“{attr.name}”是{attr.type.zh}，不能与{got_zh}比较",
            )
        if attr.type is AttrType.INT and abs(value) > INT_LIMIT:
            raise RuleError(path, "number out of range", "数值超出范围")
        if attr.type is AttrType.STR and len(value) > MAX_STRING_LENGTH:
            raise RuleError(
                path,
                f"text longer than {MAX_STRING_LENGTH} characters",
                f"文本超过 {MAX_STRING_LENGTH} 个字符",
            )
        # No registry value contains control characters; NUL and lone surrogates cannot even
        # be sent to the database, so such a literal would only fail later, in the campaign query.
        if attr.type is AttrType.STR and any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
            raise RuleError(
                path,
                "text must not contain control or invalid characters",
                "文本不能包含控制字符或无效字符",
            )
        if attr.choices is not None and value not in attr.choices:
            allowed = ", ".join(attr.choices)
            raise RuleError(
                path,
                f'"{value}" is not a valid {attr.name} (one of: {allowed})',
                f"“{value}”不是有效的 {attr.name}（可选：{allowed}）",
            )
        return value

    def _check_ordered(self, attr: Attribute, op: str, path: str) -> None:
        if op in ORDERED and attr.type is not AttrType.INT:
            raise RuleError(
                path,
                f'"{op}" applies to numeric attributes only; "{attr.name}" is {attr.type.en}',
                f"运算符“{op}”只能用于数值属性，“{attr.name}”是{attr.type.zh}",
            )

    def _comparison(self, op: str, args: Any, path: str) -> Compare:
        self._arity(path, op, args, 2)
        left, right = args
        if self._is_var(left) and not self._is_var(right):
            var_at, lit_at, flipped = 0, 1, False
        elif self._is_var(right) and not self._is_var(left):
            var_at, lit_at, flipped = 1, 0, True
        else:
            raise RuleError(
                path,
                f'"{op}" compares one attribute with one literal value',
                f"“{op}”用于将一个属性与一个字面值比较",
            )
        attr = self._attribute(args[var_at], f"{path}/{var_at}")
        self._check_ordered(attr, op, path)
        value = self._literal(attr, args[lit_at], f"{path}/{lit_at}")
        return Compare(attr.name, _FLIPPED[op] if flipped else op, value)

    def _membership(self, args: Any, path: str) -> Compare:
        self._arity(path, "in", args, 2)
        if not self._is_var(args[0]):
            raise RuleError(
                f"{path}/0", '"in" starts with an attribute', "“in”的第一个参数必须是属性"
            )
        attr = self._attribute(args[0], f"{path}/0")
        options = args[1]
        if not isinstance(options, list) or not options:
            raise RuleError(
                f"{path}/1",
                '"in" needs a non-empty literal list as its second argument',
                "“in”的第二个参数必须是非空的字面值列表",
            )
        self.ensure_room(f"{path}/1", len(options))
        values = tuple(self._literal(attr, v, f"{path}/1/{i}") for i, v in enumerate(options))
        return Compare(attr.name, "in", values)

    def _between(self, args: Any, path: str) -> Compare:
        self._arity(path, "between", args, 3)
        if not self._is_var(args[0]):
            raise RuleError(
                f"{path}/0",
                '"between" starts with an attribute',
                "“between”的第一个参数必须是属性",
            )
        attr = self._attribute(args[0], f"{path}/0")
        self._check_ordered(attr, "between", path)
        low = self._literal(attr, args[1], f"{path}/1")
        high = self._literal(attr, args[2], f"{path}/2")
        if low > high:
            raise RuleError(
                path,
                "the lower bound of between exceeds the upper bound",
                "“between”的下限大于上限",
            )
        return Compare(attr.name, "between", (low, high))


def _escape(token: str) -> str:
    """RFC 6901 escaping for a JSON Pointer segment."""
    return str(token).replace("~", "~0").replace("/", "~1")


# ---------------------------------------------------------------------------------------------
# Evaluation


def _holds(leaf: Compare, actual: Any) -> bool:
    if actual is None:
        return False
    v = leaf.value
    match leaf.op:
        case "==":
            return actual == v
        case "!=":
            return actual != v
        case "<":
            return actual < v
        case "<=":
            return actual <= v
        case ">":
            return actual > v
        case ">=":
            return actual >= v
        case "in":
            return actual in v
        case "between":
            return v[0] <= actual <= v[1]
    raise AssertionError(leaf.op)


def _evaluate(node: Node, profile: Mapping[str, Any]) -> bool:
    match node:
        case Const(value):
            return value
        case Not(operand):
            return not _evaluate(operand, profile)
        case And(operands):
            return all(_evaluate(o, profile) for o in operands)
        case Or(operands):
            return any(_evaluate(o, profile) for o in operands)
        case Compare():
            return _holds(node, profile.get(node.attribute))
    raise AssertionError(node)


def _leaves(node: Node, negated: bool) -> list[tuple[Compare, bool]]:
    match node:
        case Compare():
            return [(node, negated)]
        case Not(operand):
            return _leaves(operand, not negated)
        case And(operands) | Or(operands):
            return [leaf for o in operands for leaf in _leaves(o, negated)]
    return []


def _to_sql(node: Node, columns: Mapping[str, ColumnElement[Any]]) -> ColumnElement[bool]:
    match node:
        case Const(value):
            return sa.true() if value else sa.false()
        case Not(operand):
            return sa.not_(_to_sql(operand, columns))
        case And(operands):
            return sa.and_(*(_to_sql(o, columns) for o in operands))
        case Or(operands):
            return sa.or_(*(_to_sql(o, columns) for o in operands))
        case Compare(attribute, op, value):
            try:
                column = columns[attribute]
            except KeyError:
                raise KeyError(f"no SQL expression supplied for attribute {attribute!r}") from None
            condition: ColumnElement[bool]
            match op:
                case "==":
                    condition = column == value
                case "!=":
                    condition = column != value
                case "<":
                    condition = column < value
                case "<=":
                    condition = column <= value
                case ">":
                    condition = column > value
                case ">=":
                    condition = column >= value
                case "in":
                    condition = column.in_(value)
                case "between":
                    condition = column.between(value[0], value[1])
                case _:
                    raise AssertionError(op)
            # The IS NOT NULL guard turns SQL's unknown into false (see module docstring).
            return sa.and_(column.is_not(None), condition)
    raise AssertionError(node)

"""Validation errors and evaluation of the policy rule language."""

from typing import Any

import pytest
import sqlalchemy as sa

from api.notifications import rules
from api.notifications.rules import RuleError

AGE = {"var": "age"}
DISTRICT = {"var": "district"}
HUKOU = {"var": "hukou"}

ELDERLY_HUANGPU = {
    "and": [
        {">=": [AGE, 60]},
        {"==": [DISTRICT, "黄浦区"]},
        {"==": [HUKOU, True]},
    ]
}


def nested_not(depth: int) -> Any:
    rule: Any = {"==": [HUKOU, True]}
    for _ in range(depth - 1):
        rule = {"!": rule}
    return rule


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "path", "fragment"),
    [
        ({"xor": [True, False]}, "/xor", "unknown operator"),
        ({"==": [{"var": "income"}, 1]}, "/==/0/var", "unknown attribute"),
        ({"==": [{"var": 7}, 1]}, "/==/0/var", "must be a string"),
        ({"==": [AGE]}, "/==", "exactly 2 arguments"),
        ({"==": [AGE, 1, 2]}, "/==", "exactly 2 arguments"),
        ({"between": [AGE, 60]}, "/between", "exactly 3 arguments"),
        ({"!": [True, False]}, "/!", "exactly 1 arguments"),
        ({"and": []}, "/and", "non-empty list"),
        ({"or": {"==": [AGE, 1]}}, "/or", "non-empty list"),
        ({"==": [HUKOU, 1]}, "/==/1", "boolean and cannot be compared with a number"),
        ({"==": [AGE, True]}, "/==/1", "integer and cannot be compared with a boolean"),
        ({"==": [AGE, "60"]}, "/==/1", "integer and cannot be compared with a text"),
        ({"==": [AGE, 59.5]}, "/==/1", "integer and cannot be compared with a number"),
        ({"==": [DISTRICT, None]}, "/==/1", "null is not a valid value"),
        ({"<": [DISTRICT, "黄浦区"]}, "/<", "numeric attributes only"),
        ({">=": [HUKOU, True]}, "/>=", "numeric attributes only"),
        ({"between": [DISTRICT, "a", "b"]}, "/between", "numeric attributes only"),
        ({"between": [AGE, 70, 60]}, "/between", "lower bound"),
        ({"in": [DISTRICT, "黄浦区"]}, "/in/1", "non-empty literal list"),
        ({"in": [DISTRICT, []]}, "/in/1", "non-empty literal list"),
        ({"in": [DISTRICT, ["黄浦区", 3]]}, "/in/1/1", "cannot be compared with a number"),
        ({"in": ["黄浦区", DISTRICT]}, "/in/0", "starts with an attribute"),
        ({"==": [AGE, {"var": "years_since_founding"}]}, "/==", "one attribute with one literal"),
        ({"==": [1, 1]}, "/==", "one attribute with one literal"),
        ({"==": [AGE, 2**40]}, "/==/1", "out of range"),
        ({"==": [DISTRICT, "黄浦\u0000区"]}, "/==/1", "control or invalid characters"),
        ({"in": [DISTRICT, ["\ud800"]]}, "/in/1/0", "control or invalid characters"),
        ({"and": [{"==": [AGE, 1]}], "or": [True]}, "", "exactly one operator"),
        ("age >= 60", "", "exactly one operator"),
        ({"var": "hukou"}, "", "attribute alone is not a condition"),
        ({"and": [True, {"!": {"oops": 1}}]}, "/and/1/!/oops", "unknown operator"),
    ],
)
def test_invalid_rules_are_rejected_with_a_path(rule: Any, path: str, fragment: str) -> None:
    with pytest.raises(RuleError) as caught:
        rules.validate(rule)
    assert caught.value.path == path
    assert fragment in caught.value.message_en
    assert caught.value.message_zh  # every error has a Chinese message for the 422 body


def test_enterprise_attributes_are_not_person_attributes() -> None:
    rule = {"==": [{"var": "industry"}, "制造业"]}
    rules.validate(rule, subject="enterprise")
    with pytest.raises(RuleError, match="does not apply to person rules") as caught:
        rules.validate(rule, subject="person")
    assert "不适用于个人规则" in caught.value.message_zh
    with pytest.raises(RuleError, match="does not apply to enterprise"):
        rules.validate({">=": [AGE, 60]}, subject="enterprise")


def test_enterprise_size_must_be_a_known_size() -> None:
    rules.validate({"in": [{"var": "size"}, ["micro", "small"]]}, subject="enterprise")
    with pytest.raises(RuleError, match="not a valid size"):
        rules.validate({"==": [{"var": "size"}, "huge"]}, subject="enterprise")


def test_nesting_is_limited_to_16_levels() -> None:
    rules.validate(nested_not(16))
    with pytest.raises(RuleError, match="deeper than 16"):
        rules.validate(nested_not(17))


def test_a_pathologically_deep_rule_fails_without_recursion_error() -> None:
    with pytest.raises(RuleError, match="deeper than 16"):
        rules.validate(nested_not(100_000))


def test_rules_are_limited_to_200_nodes() -> None:
    # Each comparison is three nodes: the operator, the attribute and the literal.
    fits = {"or": [{"==": [AGE, n]} for n in range(66)]}  # 1 + 66 * 3 = 199
    rules.validate(fits)
    too_big = {"or": [{"==": [AGE, n]} for n in range(67)]}
    with pytest.raises(RuleError, match="more than 200 nodes"):
        rules.validate(too_big)
    with pytest.raises(RuleError, match="more than 200 nodes"):
        rules.validate({"in": [DISTRICT, ["x"] * 10_000]})


def test_rule_error_is_a_plain_exception_with_both_languages() -> None:
    error = RuleError("/and/0", "bad", "错误")
    assert isinstance(error, Exception)
    assert (error.path, error.message_en, error.message_zh) == ("/and/0", "bad", "错误")


# --- evaluation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ({"age": 60, "district": "黄浦区", "hukou": True}, True),
        ({"age": 59, "district": "黄浦区", "hukou": True}, False),
        ({"age": 75, "district": "静安区", "hukou": True}, False),
        ({"age": 75, "district": "黄浦区", "hukou": False}, False),
        ({"age": 75, "district": "黄浦区"}, False),
        ({}, False),
    ],
)
def test_contract_example(profile: dict[str, Any], expected: bool) -> None:
    assert rules.evaluate(ELDERLY_HUANGPU, profile) is expected


@pytest.mark.parametrize(
    ("rule", "profile", "expected"),
    [
        ({"<": [AGE, 18]}, {"age": 17}, True),
        ({"<=": [AGE, 18]}, {"age": 18}, True),
        ({">": [AGE, 18]}, {"age": 18}, False),
        ({"!=": [DISTRICT, "黄浦区"]}, {"district": "徐汇区"}, True),
        ({">": [60, AGE]}, {"age": 59}, True),  # literal first: 60 > age
        ({">": [60, AGE]}, {"age": 61}, False),
        ({"in": [DISTRICT, ["黄浦区", "静安区"]]}, {"district": "静安区"}, True),
        ({"in": [DISTRICT, ["黄浦区", "静安区"]]}, {"district": "浦东新区"}, False),
        ({"between": [AGE, 60, 69]}, {"age": 60}, True),
        ({"between": [AGE, 60, 69]}, {"age": 69}, True),
        ({"between": [AGE, 60, 69]}, {"age": 70}, False),
        ({"or": [{"==": [{"var": "veteran"}, True]}, {"==": [{"var": "disabled"}, True]}]},
         {"veteran": False, "disabled": True}, True),
        ({"not": [{"==": [{"var": "living_alone"}, True]}]}, {"living_alone": False}, True),
        (True, {}, True),
        (False, {"age": 1}, False),
    ],
)
def test_evaluation(rule: Any, profile: dict[str, Any], expected: bool) -> None:
    assert rules.evaluate(rule, profile) is expected


def test_missing_attributes_make_every_comparison_false_and_negation_flips_that() -> None:
    unknown = {"hukou": None}
    assert rules.evaluate({"==": [HUKOU, True]}, unknown) is False
    assert rules.evaluate({"!=": [HUKOU, True]}, unknown) is False
    assert rules.evaluate({"in": [HUKOU, [True, False]]}, unknown) is False
    assert rules.evaluate({"!": {"==": [HUKOU, True]}}, unknown) is True
    assert rules.evaluate({"!": {"==": [HUKOU, True]}}, {}) is True


def test_explain_lists_every_leaf_and_marks_negated_ones() -> None:
    rule = {"and": [{">=": [AGE, 60]}, {"!": {"in": [DISTRICT, ["黄浦区"]]}}, True]}
    assert rules.explain(rule, {"age": 64, "district": "徐汇区"}) == [
        {"attribute": "age", "op": ">=", "value": 60, "actual": 64, "held": True, "negated": False},
        {"attribute": "district", "op": "in", "value": ["黄浦区"], "actual": "徐汇区",
         "held": False, "negated": True},
    ]


def test_a_parsed_rule_reports_the_attributes_it_reads() -> None:
    parsed = rules.parse(ELDERLY_HUANGPU, "person")
    assert parsed.attributes == {"age", "district", "hukou"}
    assert rules.evaluate(parsed, {"age": 80, "district": "黄浦区", "hukou": True})


# --- SQL --------------------------------------------------------------------------------------


def test_compiled_sql_selects_the_same_people() -> None:
    metadata = sa.MetaData()
    person = sa.Table(
        "person",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("birth_year", sa.Integer),
        sa.Column("district", sa.String),
        sa.Column("hukou", sa.Boolean),
    )
    profiles = [
        {"id": 1, "birth_year": 1950, "district": "黄浦区", "hukou": True},
        {"id": 2, "birth_year": 1990, "district": "黄浦区", "hukou": True},
        {"id": 3, "birth_year": 1950, "district": "黄浦区", "hukou": None},
        {"id": 4, "birth_year": None, "district": "黄浦区", "hukou": True},
    ]
    # The caller supplies derived attributes as expressions, here age from a birth year.
    columns = {
        "age": 2025 - person.c.birth_year,
        "district": person.c.district,
        "hukou": person.c.hukou,
    }
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        metadata.create_all(conn)
        conn.execute(person.insert(), profiles)
        for rule in (ELDERLY_HUANGPU, {"!": ELDERLY_HUANGPU}):
            condition = rules.compile_sql(rule, columns)
            matched = set(conn.scalars(sa.select(person.c.id).where(condition)))
            expected = {
                p["id"]
                for p in profiles
                if rules.evaluate(
                    rule,
                    {**p, "age": None if p["birth_year"] is None else 2025 - p["birth_year"]},
                )
            }
            assert matched == expected
    assert expected == {2, 3, 4}  # the negation includes the unknowns


def test_compile_sql_names_a_missing_column() -> None:
    with pytest.raises(KeyError, match="age"):
        rules.compile_sql({">=": [AGE, 60]}, {})

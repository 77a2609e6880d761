"""Property: for any valid rule and any profiles, Python evaluation equals the compiled SQL.

Runs against in-memory SQLite always, and against PostgreSQL when TEST_DATABASE_URL points at one.
"""

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.notifications import rules
from api.notifications.rules import ATTRIBUTES, AttrType

DISTRICTS = ["黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "浦东新区", "崇明区"]
INDUSTRIES = ["制造业", "批发和零售业", "信息技术", "餐饮"]
SIZES = ["micro", "small", "medium", "large"]

# Small pools make equality hits likely; odd text and extreme integers cover the edges.
chinese_text = st.text(
    alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4E2F), max_size=4
)
# Any printable text: control characters are refused by validation (and NUL by PostgreSQL).
printable_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=3
)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "age": st.integers(-1, 120) | st.sampled_from([0, 60, 2**31 - 1, -(2**31 - 1)]),
    "years_since_founding": st.integers(0, 40),
    "district": st.sampled_from(DISTRICTS) | chinese_text,
    "industry": st.sampled_from(INDUSTRIES) | printable_text,
    "size": st.sampled_from(SIZES),
    "hukou": st.booleans(),
    "veteran": st.booleans(),
    "disabled": st.booleans(),
    "living_alone": st.booleans(),
}
NAMES = sorted(VALUES)
ORDERED_OPS = ["<", "<=", ">", ">="]


@st.composite
def leaves(draw: st.DrawFn) -> Any:
    name = draw(st.sampled_from(NAMES))
    var = {"var": name}
    literal = VALUES[name]
    numeric = ATTRIBUTES[name].type is AttrType.INT
    kinds = ["compare", "in"] + (["between"] if numeric else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "in":
        return {"in": [var, draw(st.lists(literal, min_size=1, max_size=4))]}
    if kind == "between":
        low, high = sorted([draw(literal), draw(literal)])
        return {"between": [var, low, high]}
    op = draw(st.sampled_from(["==", "!="] + (ORDERED_OPS if numeric else [])))
    value = draw(literal)
    return {op: [value, var]} if draw(st.booleans()) else {op: [var, value]}


def combine(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return (
        st.builds(lambda xs: {"and": xs}, st.lists(children, min_size=1, max_size=3))
        | st.builds(lambda xs: {"or": xs}, st.lists(children, min_size=1, max_size=3))
        | st.builds(lambda x: {"!": x}, children)
        | st.builds(lambda x: {"not": [x]}, children)
    )


rule_strategy = st.recursive(leaves() | st.booleans(), combine, max_leaves=8)
profile_strategy = st.fixed_dictionaries(
    {}, optional={name: st.none() | strategy for name, strategy in VALUES.items()}
)


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return None
    # Plain postgresql:// would pick psycopg2; the project ships psycopg 3.
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def profile_table(request: pytest.FixtureRequest) -> Iterator[tuple[sa.Connection, sa.Table]]:
    if request.param == "sqlite":
        engine = sa.create_engine("sqlite://")
    else:
        url = _postgres_url()
        if url is None:
            pytest.skip("TEST_DATABASE_URL is not a PostgreSQL URL")
        engine = sa.create_engine(url)
    metadata = sa.MetaData()
    types = {AttrType.INT: sa.Integer, AttrType.STR: sa.String(200), AttrType.BOOL: sa.Boolean}
    table = sa.Table(
        f"rule_profiles_{uuid.uuid4().hex[:8]}",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        *(sa.Column(name, types[ATTRIBUTES[name].type]) for name in NAMES),
        prefixes=["TEMPORARY"],
    )
    with engine.connect() as conn:
        metadata.create_all(conn)
        yield conn, table
        conn.rollback()
    engine.dispose()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=rule_strategy, profiles=st.lists(profile_strategy, min_size=1, max_size=12))
def test_python_and_sql_agree(
    profile_table: tuple[sa.Connection, sa.Table], rule: Any, profiles: list[dict[str, Any]]
) -> None:
    conn, table = profile_table
    parsed = rules.parse(rule)  # the generator only produces valid rules
    conn.execute(table.delete())
    rows = [{"id": i, **{name: p.get(name) for name in NAMES}} for i, p in enumerate(profiles)]
    conn.execute(table.insert(), rows)

    # Select the expression itself, not just filter on it: a NULL would expose leaked
    # three-valued logic even where WHERE would happen to drop the row correctly.
    matched = parsed.to_sql(table.c).label("matched")
    result = dict(conn.execute(sa.select(table.c.id, matched)).tuples().all())

    for i, profile in enumerate(profiles):
        assert result[i] is not None, "SQL produced NULL"
        assert bool(result[i]) is parsed.evaluate(profile), (rule, profile)

"""The registry names a minor's guardians (`guardian_id_numbers`): kept as blind indexes only, from
the CSV import and from the HTTP registry client."""
import pytest
from sqlalchemy import select

from api.extensions import db
from api.identity.population import HttpPopulationRegistry
from tests.api.family.conftest import CHILD, CHILD_BORN, OTHER_PARENT, PARENT, STRANGER, person
from tests.factories import import_persons
from tests.fakes.population_registry_server import FakePopulationRegistry

API_KEY = "population-registry-test-key"


def _child_row(app):
    from api.identity.models import Person
    from api.pii import PiiCipher
    with app.app_context():
        pii = PiiCipher(app.extensions["ssb.config"].DATA_KEY)
        row = db.session.scalar(select(Person).where(Person.id_number_bidx == pii.blind_index("resident_id", CHILD)))
        return row, pii


def test_import_keeps_guardians_as_blind_indexes_only(app, registry):
    row, pii = _child_row(app)
    assert set(row.guardian_bidxs) == {pii.blind_index("resident_id", PARENT), pii.blind_index("resident_id",
                                                                                              OTHER_PARENT)}
    assert "guardian_id_numbers" not in row.attributes
    with app.app_context(), db.engine.connect() as conn:
        from sqlalchemy import text
        dump = repr(conn.execute(text("SELECT * FROM persons")).all())
    for number in (PARENT, OTHER_PARENT, PARENT[-8:]):
        assert number not in dump


def test_a_bad_guardian_number_skips_the_row_with_its_line(app, tmp_path, registry):
    path = tmp_path / "bad.csv"
    path.write_text("id_type,id_number,name,birth_date,district,hukou,guardian_id_numbers\n"
                    f"resident_id,{CHILD},王小明,{CHILD_BORN},黄浦区,1,{PARENT};123\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["registry", "import-persons", str(path)])
    assert result.exit_code == 0 and "line 2: invalid guardian_id_numbers, skipped" in result.output
    row, _ = _child_row(app)
    assert len(row.guardian_bidxs) == 2     # the earlier import stands


def test_a_file_without_the_column_keeps_the_guardians(app, tmp_path, registry):
    import_persons(app, tmp_path, [person(CHILD, "王小明", CHILD_BORN)])   # no guardian column at all
    row, _ = _child_row(app)
    assert len(row.guardian_bidxs) == 2


def test_an_empty_column_clears_the_guardians(app, tmp_path, registry, parent, add_dependent):
    import_persons(app, tmp_path, [person(CHILD, "王小明", CHILD_BORN, guardian_id_numbers="")])
    assert _child_row(app)[0].guardian_bidxs == []
    assert add_dependent(parent).json["error"] == "FAMILY_NOT_REGISTERED_GUARDIAN"


# --------------------------------------------------------------------------- the HTTP registry


@pytest.fixture
def fake_registry():
    with FakePopulationRegistry(API_KEY) as fake:
        fake.add(CHILD, "王小明", str(CHILD_BORN), guardian_id_numbers=f"{PARENT}; {OTHER_PARENT}")
        yield fake


@pytest.fixture
def http_registry(app, fake_registry):
    """The app configured with REGISTRY_BACKEND=http:<fake> (after the guardians verified locally)."""
    from api.identity.population import registry_from_config
    from api.pii import PiiCipher
    pii = PiiCipher(app.extensions["ssb.config"].DATA_KEY)
    local = app.extensions["ssb.population_registry"]
    app.extensions["ssb.population_registry"] = registry_from_config(
        f"http:{fake_registry.url}", API_KEY, lambda: db.session, blind_index=pii.blind_index)
    yield app.extensions["ssb.population_registry"]
    app.extensions["ssb.population_registry"] = local


def test_the_http_client_turns_guardian_numbers_into_blind_indexes(app, fake_registry):
    from api.pii import PiiCipher
    pii = PiiCipher(app.extensions["ssb.config"].DATA_KEY)
    client = HttpPopulationRegistry(fake_registry.url, API_KEY, blind_index=pii.blind_index)
    person = client.lookup(id_type="resident_id", id_number=CHILD, blind_index="unused")
    assert set(person.guardian_bidxs) == {pii.blind_index("resident_id", PARENT),
                                          pii.blind_index("resident_id", OTHER_PARENT)}
    fake_registry.persons[("resident_id", CHILD)]["guardian_id_numbers"] = [PARENT]   # a JSON list works too
    assert client.lookup(id_type="resident_id", id_number=CHILD, blind_index="x").guardian_bidxs == (
        pii.blind_index("resident_id", PARENT),)


def test_linking_a_child_through_the_http_registry(parent, stranger, http_registry, add_dependent, fake_registry):
    assert add_dependent(parent).status_code == 201
    r = add_dependent(stranger)
    assert r.status_code == 403 and r.json["error"] == "FAMILY_NOT_REGISTERED_GUARDIAN"
    assert len(fake_registry.requests) == 2


def test_a_malformed_guardian_list_from_the_registry_is_a_503(parent, http_registry, add_dependent, fake_registry):
    fake_registry.persons[("resident_id", CHILD)]["guardian_id_numbers"] = f"{PARENT};not-a-number!"
    r = add_dependent(parent)
    assert r.status_code == 503 and r.json["error"] == "UPSTREAM_UNAVAILABLE"


def test_a_registry_without_the_field_names_no_guardian(parent, http_registry, add_dependent, fake_registry):
    del fake_registry.persons[("resident_id", CHILD)]["guardian_id_numbers"]
    r = add_dependent(parent)
    assert r.status_code == 403 and r.json["error"] == "FAMILY_NOT_REGISTERED_GUARDIAN"


def test_guardian_numbers_of_other_document_types(app):
    from api.identity.guardians import guardian_indexes
    indexes = guardian_indexes("H12345678; E12345678", lambda kind, value: f"{kind}:{value}")
    assert "hk_macau_permit:H12345678" in indexes and "passport:H12345678" in indexes
    assert "passport:E12345678" in indexes
    with pytest.raises(ValueError):
        guardian_indexes(";".join([STRANGER] * 5), lambda kind, value: value)

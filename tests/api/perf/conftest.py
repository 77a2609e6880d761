"""The 随申码 fixtures (residents, operator, venue, staff) for the hot-route tests."""
from tests.api.codes.conftest import (  # noqa: F401
    RESIDENT,
    make_venue,
    operator,
    persons,
    staff,
    venue,
    verified_resident,
)

"""SQLAlchemy models, one module per aggregate. Importing this package registers them all
(every module in this folder), so Alembic and the app always see the whole schema."""
import importlib
import pkgutil

from api.models.base import Base  # noqa: F401
from api.models.identity import Person, User  # noqa: F401
from api.models.sessions import AuthSession, RefreshToken  # noqa: F401
from api.models.access import AccessRecord  # noqa: F401

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

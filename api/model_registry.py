"""Every capability's models, so `Base.metadata` holds the whole schema (Alembic and create_app)."""
from api.access import models as access_models  # noqa: F401
from api.codes import models as codes_models  # noqa: F401
from api.enterprises import models as enterprises_models  # noqa: F401
from api.family import models as family_models  # noqa: F401
from api.identity import models as identity_models  # noqa: F401
from api.licences import models as licences_models  # noqa: F401
from api.miniprograms import models as miniprograms_models  # noqa: F401
from api.notifications import models as notifications_models  # noqa: F401
from api.ops import models as ops_models  # noqa: F401
from api.proofs import models as proofs_models  # noqa: F401
from api.ratings import models as ratings_models  # noqa: F401
from api.trust import models as trust_models  # noqa: F401

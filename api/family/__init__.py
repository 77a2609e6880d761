"""Family (亲友): guardians act for children and for elders who agree (see docs/family.md)."""
from api.family import errors as _errors  # noqa: F401  (registers the machine codes)

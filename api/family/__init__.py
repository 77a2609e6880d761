"""Family (亲友): guardians act for children and for elders who agree (see docs/family.md)."""

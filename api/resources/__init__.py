"""HTTP resources: one package per area with thin routes.py and schemas.py."""

"""Column types shared across models."""
from sqlalchemy import BigInteger, Integer

# BIGINT on PostgreSQL (millions of rows), INTEGER on SQLite so it stays an autoincrementing rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")

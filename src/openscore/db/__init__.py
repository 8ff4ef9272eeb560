"""The system of record: SQLAlchemy engine, table models and Alembic migrations."""

"""The migrations build exactly the schema the models declare, on SQLite and on PostgreSQL: a model
changed without its migration (or a migration without its model) fails here, not in production."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from workroom.db import models  # noqa: F401  (every table on Base.metadata)
from workroom.db.base import Base


async def test_the_migrated_schema_is_the_models_schema(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            def differences(sync_connection: Any) -> list[Any]:
                context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                return list(compare_metadata(context, Base.metadata))

            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()

"""Alembic, configured in code (no alembic.ini to find): `upgrade` brings a database to the head
of every migration branch. Synchronous, because Alembic's env runs its own event loop."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "heads")


def revision(url: str, message: str) -> None:
    """For developers: autogenerate a migration from the models (`python -m workroom.db.migrate MSG`)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)


if __name__ == "__main__":
    import sys

    from workroom.config import Settings

    revision(Settings.from_env().database_url, " ".join(sys.argv[1:]) or "change")

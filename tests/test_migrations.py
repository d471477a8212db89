"""Migrations reach the models exactly, and can be reversed and applied again."""

import asyncio

from alembic import command
from sqlalchemy import make_url

from sightline.migrate import alembic_config
from tests import services
from tests.conftest import RUN_ID, run_admin


def test_migrations_match_the_models_and_reverse():
    admin_url = services.admin_database_url()
    name = f"sightline_test_migrations_{RUN_ID}"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    asyncio.run(run_admin(admin_url, drop, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        config = alembic_config(url)
        command.upgrade(config, "head")
        command.check(config)  # raises when the models and the migrations differ
        command.downgrade(config, "base")
        command.upgrade(config, "head")
    finally:
        asyncio.run(run_admin(admin_url, drop))

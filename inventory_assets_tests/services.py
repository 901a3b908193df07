"""The machine's PostgreSQL and Redis, for the tests of the production profile.

Each test gets its own scratch database (created, then dropped) and a Redis
database number of its own, so tests never see each other's runs or tasks.
Tests that need a service skip, saying which and why, when it is not reachable.
The servers default to this machine's and can be pointed elsewhere with
`INVENTORY_TEST_POSTGRES_URL` (a database to connect to for CREATE DATABASE) and
`INVENTORY_TEST_REDIS_URL`.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url

ADMIN_POSTGRES_URL = os.environ.get(
    "INVENTORY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("INVENTORY_TEST_REDIS_URL", "redis://127.0.0.1:6379")
REDIS_DATABASES = range(1, 16)  # 0 is the one everybody else uses
CONNECT_TIMEOUT_SECONDS = 3
NEEDS_PRODUCTION_EXTRA = "needs the `production` extra: pip install -e '.[dev,production]'"


@contextmanager
def scratch_postgres_database(prefix: str = "inventory_test") -> Iterator[str]:
    """A new, empty database; yields its SQLAlchemy URL (psycopg2 driver) and drops it after."""
    psycopg2 = pytest.importorskip("psycopg2", reason=NEEDS_PRODUCTION_EXTRA)
    admin_url = make_url(ADMIN_POSTGRES_URL)
    try:
        admin = psycopg2.connect(ADMIN_POSTGRES_URL, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    except psycopg2.OperationalError as error:
        pytest.skip(f"PostgreSQL at {admin_url.host}:{admin_url.port} is not reachable: {error}")
    admin.autocommit = True
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            # SQLAlchemy 2.1 maps a bare `postgresql://` to psycopg 3, which
            # dagster-postgres does not install: name the driver it does.
            url = admin_url.set(drivername="postgresql+psycopg2", database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


def redis_database_url() -> str:
    """The URL of a Redis database number picked at random, after checking Redis answers."""
    redis = pytest.importorskip("redis", reason=NEEDS_PRODUCTION_EXTRA)
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {error}")
    finally:
        client.close()
    return f"{REDIS_URL.rstrip('/')}/{random.choice(REDIS_DATABASES)}"

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
REDIS_CLAIM_KEY = "inventory_assets_tests:claimed"
REDIS_CLAIM_SECONDS = 3600
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


@contextmanager
def scratch_redis_database() -> Iterator[str]:
    """The URL of a Redis database no one else is using, emptied after the test.

    The first database number (1..15) whose claim key this test sets wins; a
    claim expires on its own, so a killed test frees its database within the hour.
    """
    redis = pytest.importorskip("redis", reason=NEEDS_PRODUCTION_EXTRA)
    for number in REDIS_DATABASES:
        url = f"{REDIS_URL.rstrip('/')}/{number}"
        client = redis.Redis.from_url(url, socket_timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            claimed = client.set(REDIS_CLAIM_KEY, os.getpid(), nx=True, ex=REDIS_CLAIM_SECONDS)
        except redis.RedisError as error:
            client.close()
            pytest.skip(f"Redis at {REDIS_URL} is not reachable: {error}")
        if claimed:
            try:
                yield url
            finally:
                client.flushdb()
                client.close()
            return
        client.close()
    pytest.skip(f"every Redis database 1..15 at {REDIS_URL} is claimed by another test")

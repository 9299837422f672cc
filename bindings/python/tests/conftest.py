"""Fixtures: each test that takes `db` runs against a fresh SQLite file and, when the test
run started one (MN_PG_URL, as tests/run.sh does), against PostgreSQL; without it the
PostgreSQL cases are skipped and pytest -rs says why. Every test gets a tenant of its own
(the PostgreSQL schema is shared by the whole pytest run)."""

import os
import uuid

import pytest

import manushya


def pytest_report_header(config):
    return "libmanushya %s from %s" % (manushya.library_version(),
                                       os.environ.get("MANUSHYA_LIBRARY", "the loader's path"))


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return "sqlite:" + str(tmp_path / "memories.db")
    pg = os.environ.get("MN_PG_URL")
    if not pg:
        pytest.skip("PostgreSQL: MN_PG_URL is not set (tests/run.sh starts a server and sets it)")
    # A schema of this run's own; vectors searched by the library's index (the test server
    # may lack pgvector), as the C tests' harness does.
    return "%s?schema=py_%d&vector=local" % (pg, os.getpid())


@pytest.fixture
def db(url):
    with manushya.open(url) as handle:
        yield handle


@pytest.fixture
def tenant(db):
    """A new tenant's name."""
    name = "t-" + uuid.uuid4().hex[:12]
    db.tenants.create(name)
    return name


@pytest.fixture
def system(db, tenant):
    """The tenant's trusted system actor."""
    return db.actor(tenant)


@pytest.fixture
def bot(db, tenant, system):
    """An identity of role "agent" (the default policies let it manage its own memories)."""
    system.identities.create("bot", claims={"team": "support"})
    return db.actor(tenant, "bot")

"""localcloud on a free loopback port, driven only through the real oss2 SDK over HTTP."""

import uuid

import oss2
import pytest

from localcloud.accesskeys import create_access_key


@pytest.fixture
def data_dir(localcloud, settings):
    """The running localcloud's data directory."""
    return settings.LOCALCLOUD_DATA_DIR


@pytest.fixture
def credentials(transactional_db):
    return create_access_key("tests")


@pytest.fixture
def auth(credentials):
    return oss2.Auth(*credentials)


@pytest.fixture
def auth_v4(credentials):
    return oss2.AuthV4(*credentials)


@pytest.fixture
def service(localcloud, auth):
    return oss2.Service(auth, localcloud)


@pytest.fixture
def new_bucket(localcloud, auth):
    """A factory of created buckets: new_bucket(**create_bucket kwargs) -> oss2.Bucket."""

    def create(headers=None, permission=None, config=None, auth_=None):
        bucket = oss2.Bucket(auth_ or auth, localcloud, f"test-{uuid.uuid4().hex[:12]}")
        bucket.create_bucket(permission, input=config, headers=headers)
        return bucket

    return create


@pytest.fixture
def bucket(new_bucket):
    return new_bucket()

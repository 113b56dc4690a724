import pytest

from tests.support.oracle import EtfOracle


@pytest.fixture(scope='session')
def oracle():
    erl = EtfOracle()
    yield erl
    erl.close()

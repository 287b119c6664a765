import pytest

from gfplint.model.flags import layout
from gfplint.model.outcome import outcome
from gfplint.model.simulator import simulate
from gfplint.model.verdict import Request
from gfplint.model.world import World


def _mask(names, kernel="6.12"):
    lay = layout(kernel)
    out = frozenset()
    for n in names.split("|"):
        v = lay.lookup(n.strip())
        assert v is not None, n
        out |= v
    return out


def _run(backend, names, world=World(), kernel="6.12", size=None, order=None, **kw):
    """Run both models; assert they agree; return the outcome."""
    req = Request(backend, _mask(names, kernel), size=size, order=order, kernel=kernel, **kw)
    a, b = outcome(req, world), simulate(req, world)
    assert a.key() == b.key(), (a, b)
    return a


@pytest.fixture
def run():
    return _run


@pytest.fixture
def mask():
    return _mask

"""The must-scope propagation (callgraph._propagate_must) against its definition, by brute force.

A scope is open when a function is entered along a call path if some call on that path was made
inside it; a function's must-scopes are those open along every path from a function entered
where no scope is known (no callers, or its address taken).  A function no such entry reaches
is entered from somewhere the graph does not show: no scope."""
from types import SimpleNamespace

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from gfplint import callgraph

SCOPES = callgraph.MUST_SCOPES
N = 6

edges = st.lists(st.tuples(st.integers(0, N - 1), st.integers(0, N - 1),
                           st.frozensets(st.sampled_from(SCOPES))), max_size=12)


def _graph(es):
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(N))
    for a, b, opened in es:
        g.add_edge(a, b, call=SimpleNamespace(scopes_must=sorted(opened)))
    return g


def _by_paths(g, taken):
    entries = {n for n in g if g.in_degree(n) == 0 or n in taken}
    reached = entries.union(*(nx.descendants(g, e) for e in entries))
    entries |= set(g) - reached  # entered from somewhere the graph does not show
    out = {}
    for n in g:
        if n in entries:
            out[n] = frozenset()
            continue
        acc = None
        for e in entries:
            for path in nx.all_simple_edge_paths(g, e, n):
                opened = callgraph.implied_scopes(
                    frozenset().union(*(frozenset(g.edges[a, b, k]["call"].scopes_must) for a, b, k in path)))
                acc = opened if acc is None else acc & opened
        out[n] = acc if acc is not None else frozenset()
    return out


@settings(max_examples=300, deadline=None)
@given(edges, st.frozensets(st.integers(0, N - 1)))
def test_must_scopes_are_those_open_on_every_path_from_an_entry(es, taken):
    g = _graph(es)
    ctx = callgraph.Contexts()
    callgraph._propagate_must(g, ctx, taken)
    assert ctx.must == _by_paths(g, taken)


def test_a_cycle_no_entry_reaches_knows_no_scope():
    g = _graph([(0, 1, frozenset({"nofs"})), (1, 0, frozenset({"nofs"})), (2, 3, frozenset())])
    ctx = callgraph.Contexts()
    callgraph._propagate_must(g, ctx)
    assert ctx.must[0] == ctx.must[1] == frozenset()

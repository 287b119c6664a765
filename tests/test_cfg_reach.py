"""cfg.reach(), the path search behind give-up flags (context._WrittenFields.gives_up()), against
networkx on random graphs: what it reaches is what a graph without the avoided nodes and the cut
edge reaches."""
import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from gfplint.frontend import cfg

N = 8


@st.composite
def graphs(draw):
    succ = [draw(st.lists(st.integers(0, N - 1), max_size=3)) for _ in range(N)]
    starts = draw(st.lists(st.integers(0, N - 1), min_size=1, max_size=2))
    avoid = frozenset(draw(st.lists(st.integers(0, N - 1), max_size=3)))
    node = draw(st.integers(0, N - 1))
    cut = (node, draw(st.integers(0, 2))) if succ[node] and draw(st.booleans()) else None
    return succ, starts, avoid, cut


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_reach_is_reachability_without_the_avoided_nodes_and_the_cut_edge(case):
    succ, starts, avoid, cut = case
    nodes = [cfg.Node([], [(m, None) for m in out]) for out in succ]
    g = nx.MultiDiGraph()
    g.add_nodes_from(n for n in range(N) if n not in avoid)
    for n, out in enumerate(succ):
        for i, m in enumerate(out):
            if n not in avoid and m not in avoid and (n, i) != cut:
                g.add_edge(n, m)
    want = set()
    for s in starts:
        if s not in avoid:
            want |= {s} | nx.descendants(g, s)
    assert cfg.reach(nodes, starts, avoid, cut) == want


def test_reach_cut_edge_only_removes_that_edge():
    # 0 -> 1 (index 0) and 0 -> 1 (index 1): cutting one parallel edge keeps the other
    nodes = [cfg.Node([], [(1, None), (1, None)]), cfg.Node([], [])]
    assert cfg.reach(nodes, [0], cut=(0, 0)) == {0, 1}
    nodes = [cfg.Node([], [(1, None), (2, None)]), cfg.Node([], []), cfg.Node([], [])]
    assert cfg.reach(nodes, [0], cut=(0, 1)) == {0, 1}
    assert cfg.reach(nodes, [0], avoid=frozenset({0})) == set()

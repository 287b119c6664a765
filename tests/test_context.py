"""Context analysis beyond the fixtures: witness paths in every output, the wrappers command, Facts round trip."""
import json
import subprocess
import sys

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from fixture_expect import EXAMPLE_INCLUDE, FIXTURES, run_fixture

from gfplint import callgraph
from gfplint.cli import main
from gfplint.facts import TUFacts


def test_interprocedural_finding_carries_its_witness_path():
    _, result = run_fixture("calls.c")
    leaf = [f for f in result.findings if f.rule == "sleep-in-atomic" and f.function == "leaf"]
    assert len(leaf) == 1
    steps = leaf[0].path
    assert [s["function"] for s in steps] == ["chain_top", "chain_top", "upper", "middle", "leaf"]
    assert "spin_lock(&d->lock) acquired here" == steps[0]["what"]
    assert steps[-1]["line"] == leaf[0].line
    assert all(set(s) == {"file", "line", "function", "what"} for s in steps)


def test_witness_steps_name_the_conditions_the_analysis_could_not_decide():
    # obj_route_test() allocates only `if (cfg->mx)`; its atomic caller passes a cfg whose mx
    # gfplint does not know, so the reader is told what to check (net/ipv6/route.c's fc_mx)
    _, result = run_fixture("precision.c")
    f = [f for f in result.findings if f.rule == "sleep-in-atomic" and f.function == "obj_route_test"][0]
    assert f.path[-1]["conditions"] == ["cfg->mx"]
    assert f.path[-1]["what"] == "kmalloc() called here, only if cfg->mx"
    assert all("conditions" not in s for s in f.path[:-1])


def test_witness_steps_name_every_condition_as_written():
    # not only parameter tests the analysis could decide: a field tested before allocating on
    # first use, early returns, the else side, && and ?:, a case label of a switch on a global
    _, result = run_fixture("conditions.c")
    by_fn = {f.function: f for f in result.findings if f.rule == "sleep-in-atomic"}
    assert by_fn["cnd_stats_dump"].path[-1]["conditions"] == ["!c->stats"]
    assert by_fn["cnd_stats_dump"].path[-1]["what"] == "kmalloc() called here, only if !c->stats"
    fill = by_fn["cnd_fill"].path
    assert fill[-2]["conditions"] == ["c->mode is one of 3", "n > 1"]
    assert fill[-1]["conditions"] == ["!c->ready", "n <= 8"]
    assert by_fn["cnd_state_switch"].path[-1]["conditions"] == ["cnd_state == 5"]
    assert by_fn["cnd_pick"].path[-1]["conditions"] == ["!c->mode"]
    assert by_fn["cnd_demorgan"].path[-1]["conditions"] == ["cnd_global && cnd_global->mode <= 3",
                                                            "cnd_global->buf"]
    # what a statement testing a parameter tests besides it: not lost to the guard
    assert by_fn["cnd_guard_rest"].path[-1]["what"] == \
        "kmalloc() called here, only if n is one of 2 && (!c->mode || !c->ready) && cnd_global"
    assert by_fn["cnd_demorgan_and"].path[-1]["conditions"] == ["(cnd_state <= 1 && cnd_global) || cnd_state == 7"]


def test_witness_with_fewest_conditions_is_shown():
    # cnd_leaf() is called under the lock both `if (c->mode == 2)` and always: the reader gets
    # the path with nothing to check
    _, result = run_fixture("conditions.c")
    f = [f for f in result.findings if f.rule == "sleep-in-atomic" and f.function == "cnd_leaf"][0]
    assert f.path[0]["function"] == "cnd_leaf_always"
    assert f.properties["conditions"] == 0 and all("conditions" not in s for s in f.path)


def test_conditions_from_macro_bodies_and_constants_are_not_listed():
    _, result = run_fixture("conditions.c")
    f = [f for f in result.findings if f.rule == "sleep-in-atomic" and f.function == "cnd_macro"][0]
    assert all("conditions" not in s for s in f.path)


def test_conditions_join_with_parentheses_only_where_precedence_needs_them():
    st = callgraph.conditional(callgraph.step("f.c", 1, "f", "kmalloc() called here"),
                               ["a || b", "!(c || d)", "(e) || (g)", "h(i || j)", "k ? l : m"])
    assert st["what"] == "kmalloc() called here, only if (a || b) && !(c || d) && ((e) || (g)) && h(i || j) && (k ? l : m)"


def test_a_null_argument_decides_the_condition():
    # free_deferred(o, NULL) passes !head == 1 to bulk_add()'s `if (can_alloc)`: the witness has
    # nothing left for the reader to check (mm/slab_common.c add_ptr_to_bulk_krc_lock())
    _, result = run_fixture("precision.c")
    f = [f for f in result.findings if f.rule == "sleep-in-atomic" and f.function == "bulk_add"][0]
    assert f.path[0]["function"] == "release_headless_locked"
    assert all("conditions" not in s for s in f.path)


def test_lazy_initialization_is_reported_only_with_first_use():
    # firstuse.c expects, with --first-use, each lazy initialization at low confidence; without
    # it they are not reported, and every other finding is the same, at high confidence
    from fixture_expect import expectations

    path = FIXTURES / "firstuse.c"
    want = {line: props for line, e in expectations(path).items()
            for rule, props in e["rules"] if rule == "sleep-in-atomic"}
    low = {line for line, props in want.items() if props["confidence"] == "low"}
    assert low and set(want) - low  # both kinds are in the fixture
    _, plain = run_fixture("firstuse.c", first_use=False)
    got = {f.line: f for f in plain.findings if f.rule == "sleep-in-atomic"}
    assert set(got) == set(want) - low
    assert all(f.properties["confidence"] == "high" and "first_use" not in f.properties for f in got.values())
    # nofail-misuse follows: the lazy __GFP_NOFAIL site's atomic path is not its finding either
    nofail = {line for line, e in expectations(path).items() for rule, _ in e["rules"] if rule == "nofail-misuse"}
    assert nofail and nofail <= low
    assert not [f for f in plain.findings if f.rule == "nofail-misuse" and f.line in nofail]
    _, wide = run_fixture("firstuse.c")
    flagged = {f.line: f for f in wide.findings if f.rule == "sleep-in-atomic" and "first_use" in f.properties}
    assert set(flagged) == low
    stats = flagged[min(low)]  # the first one: nic_stats_fetch() sets n->stats itself
    assert "before nic_stats_fetch() sets n->stats: a lazy initialization" in stats.message
    assert stats.path[-1]["first_use"] == ["n->stats"]
    # a site reached through a lazy initialization and without one: the plain path is the witness
    src = path.read_text().splitlines()
    mbox = next(i for i, l in enumerate(src, 1) if "n->buf = kmalloc(32" in l)
    assert got[mbox].path[0]["function"] == "nic_reset"
    assert not callgraph.first_use_steps(got[mbox].path)


def test_callback_witness_names_the_function_the_pointer_went_through():
    # __dev_uc_sync(dev, sync, unsync) -> __hw_addr_sync_dev() -> sync(): the step at the passing
    # call names each hop, so the reader can find the call through the parameter
    path, result = run_fixture("calls.c")
    src = path.read_text().splitlines()

    def line(text: str) -> int:
        return next(i for i, l in enumerate(src, 1) if text in l)

    by_fn = {f.function: f for f in result.findings if f.rule == "sleep-in-atomic"}
    add = by_fn["sync_add"].path
    assert [s["function"] for s in add] == ["dev_set_rx_list", "dev_set_rx_list", "sync_add"]
    assert add[1]["what"] == (f"calls sync_list(), which passes sync_add to sync_each() at calls.c:"
                              f"{line('sync_each(d, sync); /* passed on')}, which calls sync_add() through its "
                              f"parameter sync at calls.c:{line('if (sync(d, i))')} with spin_lock_bh(&d->lock) held")
    # the callee's own lock: the witness starts there, and names who passed the function
    irq = by_fn["sync_irq"].path
    lock = line("sync(d, 1);") - 1  # spin_lock_bh() on the line before
    assert [(s["function"], s["line"]) for s in irq[:2]] == [("sync_locked", lock), ("sync_locked", lock + 1)]
    assert f"passed by dev_sync_irq() at calls.c:{line('sync_locked(d, sync_irq);')}" in irq[1]["what"]
    # a header inline given the functions: the step names the inline the caller wrote
    assert by_fn["uc_add"].path[1]["what"].startswith("calls dev_addr_sync(), which calls addr_sync_dev(), which "
                                                      "calls uc_add() through its parameter sync at calls.c:")
    assert by_fn["dev_applied"].path[1]["what"] == ("calls dev_apply(), which calls dev_applied() with "
                                                    "spin_lock_bh(&d->lock) held")
    # stored for later, called after the caller's unlock, after the callee drops the lock, only for
    # the last reference (kref_put()), or on a branch the caller's argument rules out: no context
    assert not {"sync_kept", "sync_unlocked", "sync_dropped", "dev_release", "skip_preserved",
                "chunk_write"} & set(by_fn)
    assert by_fn["skip_tree"].path[0]["function"] == "close_ids"


def test_registration_witness_names_the_api():
    _, result = run_fixture("calls.c")
    timer = [f for f in result.findings if f.rule == "sleep-in-atomic" and f.function == "dev_timer"][0]
    assert "timer_setup()" in timer.path[0]["what"] and timer.path[0]["function"] == "dev_setup"


def test_text_output_prints_the_path_as_notes():
    proc = subprocess.run([sys.executable, "-m", "gfplint", "check", "-I", str(EXAMPLE_INCLUDE),
                           "--select", "sleep-in-atomic", "calls.c"], cwd=FIXTURES, capture_output=True, text=True)
    lines = proc.stdout.splitlines()
    i = next(i for i, l in enumerate(lines) if "[sleep-in-atomic]" in l and l.startswith("calls.c:") and ": leaf" not in l
             and "kmalloc() of 32 bytes" in l and lines[i + 1].startswith("    "))
    assert ": error: " in lines[i]
    assert lines[i + 1].startswith("    calls.c:") and ": note: " in lines[i + 1]


def test_json_findings_have_paths():
    proc = subprocess.run([sys.executable, "-m", "gfplint", "check", "-I", str(EXAMPLE_INCLUDE), "--format", "json",
                           "calls.c"], cwd=FIXTURES, capture_output=True, text=True)
    doc = json.loads(proc.stdout)
    sia = [f for f in doc["findings"] if f["rule"] == "sleep-in-atomic"]
    assert sia and all(f["path"] for f in sia)
    kth = [s for s in doc["sites"] if s["function"] == "dev_work"][0]
    assert kth["task_kinds"] == ["kthread"]


def test_redundant_nofs_across_calls_carries_the_chain_from_the_scope():
    # a must-scope's evidence: one chain of calls from a call made inside memalloc_nofs_save()
    _, result = run_fixture("calls.c")
    red = {f.function: f for f in result.findings if f.rule == "redundant-nofs"}
    leaf = red["nofs_leaf"]
    assert "on every call path" in leaf.message
    assert [(s["function"], s["what"]) for s in leaf.path] == [
        ("nofs_two_hops", "calls nofs_middle() inside memalloc_nofs_save()"),
        ("nofs_middle", "calls nofs_leaf() with memalloc_nofs_save() open"),
        ("nofs_leaf", "kmalloc() called here with GFP_NOFS")]
    assert leaf.path[-1]["line"] == leaf.line
    # NOIO on one path, NOFS on the other: the chain shows one that opens the scope the message names
    either = red["nofs_either"]
    assert either.path[0]["what"] == "calls nofs_either() inside memalloc_nofs_save()"  # the scope it names
    # a function's own scope is the one its message names, whatever its callers open
    assert "memalloc_nofs_save() is open in this function" in red["nofs_own_scope"].message
    # the scope opened in the function itself needs no chain
    local = [f for f in red.values() if "in this function" in f.message]
    assert local and all(f.path == [] for f in local)


def test_calls_a_header_inline_makes_are_the_callers():
    # the graph holds no header inline: dev_refill_all() -> dev_refill_some() -> dev_refill()
    _, result = run_fixture("calls.c")
    f = [f for f in result.findings if f.rule == "sleep-in-atomic" and f.function == "dev_refill"][0]
    assert f.path[1]["function"] == "dev_poll_locked"
    assert f.path[1]["what"] == "calls dev_refill_all(), which calls dev_refill() with spin_lock(&d->lock) held"
    # a call the inline makes only under a condition is not followed (a put of the last reference),
    # nor one from an inline that takes a lock itself
    assert not [f for f in result.findings if f.rule == "sleep-in-atomic" and f.function == "dev_refill_rarely"]
    assert not [f for f in result.findings if f.rule == "sleep-in-atomic" and f.function == "dev_refill_locked"]
    # a member-pointer call inside an inline, with --through-fields
    _, fields = run_fixture("fields.c")
    rx = [f for f in fields.findings if f.rule == "sleep-in-atomic" and f.function == "amber_rx"][0]
    assert rx.path[1]["what"].startswith("calls widget_op_rx(), which calls ->rx() (through struct widget_rx_ops, "
                                         "may be amber_rx(), one of 1 functions stored there)")


def test_wrappers_command_lists_what_was_inferred_and_why():
    res = CliRunner().invoke(main, ["wrappers", "-I", str(EXAMPLE_INCLUDE), "--format", "json",
                                    str(FIXTURES / "wrappers.c")])
    assert res.exit_code == 0, res.output
    rows = {w["function"]: w for w in json.loads(res.output)["wrappers"]}
    assert rows["buf_alloc"]["gfp_param"] == "gfp" and rows["buf_alloc"]["calls"] == 3
    assert "loops until" in rows["must_alloc"]["why"]
    assert "must_users" not in rows  # it checks the result: not a wrapper


def test_wrappers_command_lists_registration_wrappers():
    # card_add_napi() hands its `poll` parameter to netif_napi_add(): card_q_setup() registers
    # card_q_poll through it, and card_add_napi_outer() (a wrapper of the wrapper) another one
    res = CliRunner().invoke(main, ["wrappers", "-I", str(EXAMPLE_INCLUDE), "--format", "json",
                                    str(FIXTURES / "registrations.c")])
    assert res.exit_code == 0, res.output
    rows = {r["function"]: r for r in json.loads(res.output)["registration_wrappers"]}
    assert set(rows) == {"card_add_napi"}
    assert rows["card_add_napi"]["param"] == "poll" and rows["card_add_napi"]["api"] == "netif_napi_add"
    assert rows["card_add_napi"]["context"] == "atomic" and rows["card_add_napi"]["calls"] == 1
    text = CliRunner().invoke(main, ["wrappers", "-I", str(EXAMPLE_INCLUDE), str(FIXTURES / "registrations.c")])
    assert "card_add_napi() registers its parameter 'poll' with netif_napi_add() (atomic)" in text.output


def test_context_facts_survive_serialization():
    from gfplint.analysis import Inputs, _catalog, parse_all, plan

    inp = Inputs([str(FIXTURES / "calls.c")], includes=[str(EXAMPLE_INCLUDE)], cwd=str(FIXTURES))
    facts = parse_all(plan(inp), _catalog(inp))
    for tu in facts:
        again = TUFacts.from_dict(json.loads(json.dumps(tu.to_dict())))
        assert again == tu
        assert any(f.calls for f in again.functions) and again.registrations


def test_member_pointer_calls_are_edges_only_with_through_fields():
    def red(result):
        return [f for f in result.findings if f.rule == "sleep-in-atomic" and f.function == "red_attach"]

    _, with_fields = run_fixture("fields.c")
    found = red(with_fields)
    assert len(found) == 1 and found[0].properties["confidence"] == "low"
    assert "lower confidence" in found[0].message
    call = next(s for s in found[0].path if s.get("through_field"))
    assert call["function"] == "widget_attach_locked"
    assert "through struct widget_ops, may be red_attach(), one of 2 functions" in call["what"]
    assert with_fields.program.contexts.graph.graph["field_edges"] >= 3  # red, blue (widget_ops), gadget

    _, without = run_fixture("fields.c", through_fields=False)
    assert red(without) == []
    assert without.program.contexts.graph.graph["field_edges"] == 0
    # registrations and the user catalog do not depend on the option
    assert {f.function for f in without.findings if f.rule == "sleep-in-atomic"} == {
        "widget_hrtimer", "widget_refill", "widget_tick"}


def test_bad_context_catalog_is_a_one_line_error(tmp_path):
    for text, fragment in (("[1]", "expected a JSON object"),
                           ('{"registrations": [{"names": ["f"], "arg": 0}]}', "registrations[0] needs"),
                           ('{"registrations": [{"names": ["f"], "arg": 0, "context": "softirq"}]}',
                            "context must be one of"),
                           ('{"ops_fields": [{"fields": "open", "context": "user"}]}', "must be a list of strings"),
                           ('{"lock_neutral": "kfree"}', "'lock_neutral' must be a list of strings"),
                           ("{", "cannot read context catalog")):
        bad = tmp_path / "ctx.json"
        bad.write_text(text)
        res = CliRunner().invoke(main, ["check", "-I", str(EXAMPLE_INCLUDE), "--context-catalog", str(bad),
                                        str(FIXTURES / "fields.c")])
        assert res.exit_code == 2, (text, res.output)
        assert fragment in res.output and "Traceback" not in res.output, (text, res.output)


def test_lock_neutral_functions_come_from_the_catalog(tmp_path):
    """A helper that calls, with its lock held, a function defined elsewhere is no lock for its
    callers (that function may release the lock), unless the catalog's lock_neutral list, which a
    user can extend, says the function never does."""
    def locked(result):
        return {f.line for f in result.findings if f.rule == "sleep-in-atomic"
                and f.function == "objfs_after_lock_then_complain"}

    _, default = run_fixture("precision.c")
    assert locked(default) == set()
    cat = tmp_path / "ctx.json"
    cat.write_text(json.dumps({"lock_neutral": ["objfs_complain"]}))
    _, extended = run_fixture("precision.c", context_catalog=str(cat))
    assert len(locked(extended)) == 1


def test_context_catalog_is_part_of_the_cache_key(tmp_path):
    """A catalog change alters what the front end records (locks, registrations): cached Facts must not be reused."""
    src = tmp_path / "w.c"
    src.write_text((FIXTURES / "fields.c").read_text())
    cat = tmp_path / "ctx.json"
    cat.write_text((FIXTURES / "catalogs" / "widget-context.json").read_text())
    args = ["check", "-I", str(EXAMPLE_INCLUDE), "--cache-dir", str(tmp_path / "cache"), "--format", "json",
            "--fail-on", "never", "-q", str(src)]

    def refill_findings(extra):
        res = CliRunner().invoke(main, args + extra)
        assert res.exit_code == 0, res.output
        doc = json.loads(res.output[res.output.index("{"):])
        return [f for f in doc["findings"] if f["rule"] == "sleep-in-atomic" and f["function"] == "widget_refill"]

    assert refill_findings([]) == []  # widget_lock() means nothing without the catalog
    assert len(refill_findings(["--context-catalog", str(cat)])) == 1


def test_always_sleeping_follows_calls_without_an_edge():
    # A call written inside a macro expansion located in a header has no call-graph edge, but its
    # name is still among the functions called on every path: the fixed point must follow the
    # name, whatever order it meets the functions in (it used to walk graph predecessors only).
    from gfplint import callgraph
    from gfplint.facts import FunctionFacts

    functions = {
        ("a.c", "outer"): FunctionFacts("a.c", "outer", 1, calls_always=["middle"]),
        ("a.c", "middle"): FunctionFacts("a.c", "middle", 5, calls_always=["takes_mutex", "unrelated"]),
        ("b.c", "takes_mutex"): FunctionFacts("b.c", "takes_mutex", 1, sleeps_always=True),
        ("b.c", "unrelated"): FunctionFacts("b.c", "unrelated", 9),
        ("b.c", "maybe"): FunctionFacts("b.c", "maybe", 12, calls_always=["unrelated"]),
    }
    g = callgraph.build_graph(functions, [])
    assert g.number_of_edges() == 0
    assert callgraph.always_sleeping(g) == {"outer", "middle", "takes_mutex"}


def test_only_pointer_parameters_get_write_summaries():
    # obj_merge_group_maybe(o, fast) hands both to obj_find_maybe(); only the pointer can be
    # written through, so only it is recorded (an int's "fields" would be Facts for nothing)
    _, result = run_fixture("precision.c")
    fn = result.program.functions[("precision.c", "obj_merge_group_maybe")]
    assert set(fn.param_passes) == {"o"}
    call = next(c for c in fn.calls if c.callee == "obj_find_maybe")
    assert set(call.pass_fields) == {"0"} and call.arg_params == {"0": "o", "1": "fast"}


_CONDS = st.one_of(
    st.fixed_dictionaries({"truth": st.booleans()}),
    st.fixed_dictionaries({"mask": st.integers(1, 255), "truth": st.booleans()}),
    st.fixed_dictionaries({"in": st.lists(st.integers(0, 9), min_size=1, max_size=4)}),
    st.fixed_dictionaries({"not_in": st.lists(st.integers(0, 9), min_size=1, max_size=4)}),
)


@given(st.dictionaries(st.sampled_from(["p", "q->f"]), _CONDS, max_size=2),
       st.dictionaries(st.sampled_from(["p", "q->f", "r"]),
                       st.lists(st.integers(0, 9), min_size=1, max_size=4), max_size=3))
def test_a_value_known_to_be_one_of_several_allows_what_one_of_them_allows(guards, choices):
    # `if (msg->cmd == A || msg->cmd == B) f(msg)`: f's guards see {A, B}; every guard must be met
    # by one of the values (each guard is on its own key, so they are independent)
    def meets(x, cond):
        if "mask" in cond:
            return bool(x & cond["mask"]) == cond["truth"]
        if "truth" in cond:
            return bool(x) == cond["truth"]
        if "not_in" in cond:
            return x not in cond["not_in"]
        return x in cond["in"]

    consts = {k: tuple(v) if len(v) > 1 else v[0] for k, v in choices.items()}
    want = all(any(meets(x, c) for x in choices[k]) for k, c in guards.items() if k in choices)
    assert callgraph.allows(guards, consts) == want


def test_a_bit_test_on_either_of_two_bits_blocks_callers_passing_neither():
    # obj_trigger(o, 0x8) cannot take `if (bits & 0x1 || bits & 0x2)`: only the caller passing 0x2
    # reaches obj_raise_signal() in atomic context (mpt3sas_trigger_master())
    _, result = run_fixture("precision.c")
    states = result.program.contexts.atomic_states
    node = next(n for n in states if n.endswith("::obj_raise_signal"))
    assert {path[0]["function"] for _, path in states[node]} == {"obj_adapter_reset"}


def test_which_allocation_apis_sleep_on_every_call():
    # kmalloc(GFP_KERNEL) runs might_alloc() every time (mm/slab.h slab_pre_alloc_hook); krealloc()
    # may resize in place and kstrdup(NULL) returns first; dma and idr allocations may come from a
    # pool or a preload; a user catalog entry can say either way
    from gfplint.catalog import _parse, load_catalog
    cat = load_catalog()
    assert cat.lookup("kmalloc").always_checks_sleep()
    assert cat.lookup("kmalloc_noprof").always_checks_sleep()
    assert cat.lookup("get_zeroed_page").always_checks_sleep()
    assert cat.lookup("mempool_alloc").always_checks_sleep()
    for api in ("krealloc", "kvrealloc", "kstrdup", "kstrdup_const", "bio_alloc", "dma_alloc_coherent", "ida_alloc"):
        assert not cat.lookup(api).always_checks_sleep(), api
    user = _parse('{"apis": [{"api": "my_dma_alloc", "gfp": 1, "backend": "dma", "failure": "null", '
                  '"alloc_only": true, "might_alloc": true}]}', "user")
    assert user["my_dma_alloc"].always_checks_sleep()


def test_only_the_first_blocking_allocation_on_a_path_is_reported():
    # obj_fw_prepare() sleeps on every path (its kzalloc), so its second allocation and
    # everything obj_fw_request() calls after it get no atomic context: one finding for the bug
    _, result = run_fixture("precision.c")
    fw = sorted((f.function, f.line) for f in result.findings
                if f.rule == "sleep-in-atomic" and f.path[0]["function"] == "obj_fw_reset_locked"
                and f.function in ("obj_fw_prepare", "obj_fw_load"))
    assert [name for name, _ in fw] == ["obj_fw_prepare"]
    assert result.program.functions[("precision.c", "obj_fw_prepare")].sleeps_always
    slept = {r.site.line: r.site.slept for r in result.program.sites if r.site.function == "obj_fw_prepare"}
    assert sorted(slept.values()) == [False, True]  # the second allocation comes after a sleep
    grow = {r.site.api: r.site.slept for r in result.program.sites if r.site.function == "obj_fw_grow"}
    assert grow == {"krealloc": False, "kmalloc": False}  # krealloc() may not reach might_alloc()


def test_the_witness_prefers_a_path_with_nothing_left_to_check():
    # obj_wit_short() reaches obj_wit_leaf() directly only `if (cfg->mx)`, and through obj_wit_mid()
    # unconditionally: the witness is the longer path that needs no condition
    _, result = run_fixture("precision.c")
    f = [f for f in result.findings if f.rule == "sleep-in-atomic" and f.function == "obj_wit_leaf"][0]
    assert [s["function"] for s in f.path] == ["obj_wit_locked", "obj_wit_locked", "obj_wit_short",
                                              "obj_wit_mid", "obj_wit_leaf"]
    assert all("conditions" not in s for s in f.path)
    assert callgraph.witness_cost(f.path) == (0, 0, 5)


def test_the_witness_prefers_a_call_that_decides_the_sites_condition():
    # obj_wit_alloc() allocates only `if (big)`: of its two atomic callers, the witness takes the
    # one passing 1 (nothing to check) over the earlier one passing an unknown `big`
    _, result = run_fixture("precision.c")
    f = [f for f in result.findings if f.rule == "sleep-in-atomic" and f.function == "obj_wit_alloc"][0]
    lines = (FIXTURES / "precision.c").read_text().splitlines()
    assert "obj_wit_alloc(o, 1);" in lines[f.path[1]["line"] - 1]
    assert all("conditions" not in s for s in f.path)


def test_equality_tests_are_guards_and_their_negations_too():
    # obj_intr_next(o, OBJ_INTR_IORL): `if (intr == OBJ_INTR_ON)` keeps the then-call, `else` and
    # `if (intr != OBJ_INTR_ON) return;` are negated into "not 1"
    _, result = run_fixture("precision.c")
    fn = result.program.functions[("precision.c", "obj_intr_next")]
    guards = {c.callee: c.guards for c in fn.calls}
    assert guards["obj_intr_on_work"] == {"intr": {"in": [1]}}
    assert guards["obj_intr_other_work"] == {"intr": {"not_in": [1]}}
    assert guards["obj_intr_pair_work"] == {"intr": {"in": [1, 3]}}
    assert guards["obj_intr_late_work"] == {"intr": {"in": [1]}}
    assert callgraph.open_conditions({"intr": {"not_in": [1]}}, {}) == ["intr is not 1"]


def _two_tus(tmp_path, files: dict):
    from gfplint.analysis import Inputs, analyse

    for name, text in files.items():
        (tmp_path / name).write_text(text)
    inc = [str(FIXTURES / "include"), str(EXAMPLE_INCLUDE)]
    return analyse(Inputs([str(tmp_path / n) for n in files], cwd=str(tmp_path), includes=inc))


_WRAP_C = """\
#include <linux/slab.h>
#include <linux/spinlock.h>
void *blk_get(void);
void *blk_get(void)
{
	return kmalloc(72, GFP_KERNEL);
}
void blk_here(spinlock_t *l, void **slot)
{
	spin_lock(l);
	*slot = blk_get();
	spin_unlock(l);
}
"""
_USER_C = """\
#include <linux/spinlock.h>
void *blk_get(void);
void blk_there(spinlock_t *l, void **slot)
{
	spin_lock(l);
	*slot = blk_get();
	spin_unlock(l);
}
"""


def test_wrapper_allocation_reported_once_per_path(tmp_path):
    # blk_here()'s call in wrap.c is a wrapper site: that path is reported at the call.  The call
    # from user.c is not (another TU, no gfp_t argument): that path is reported inside blk_get(),
    # with its own witness, not lost behind the one already reported
    result = _two_tus(tmp_path, {"wrap.c": _WRAP_C, "user.c": _USER_C})
    found = {(f.file, f.line): f for f in result.findings if f.rule == "sleep-in-atomic"}
    assert set(found) == {("wrap.c", 6), ("wrap.c", 11)}
    assert found[("wrap.c", 6)].path[0]["function"] == "blk_there"
    assert found[("wrap.c", 11)].properties["local"] is True


def test_lock_wrappers_are_functions_that_return_holding_a_lock_they_took():
    # obj_lock_all() takes o->lock on every path; a drop-and-retake helper (through spin_unlock()
    # or an inline unlock) and a guard released at return are no lock wrappers
    _, result = run_fixture("precision.c")
    fns = result.program.functions
    assert fns[("precision.c", "obj_lock_all")].acquires == ["spin"]
    for name in ("obj_refill_relock", "objfs_drop_for_caller", "obj_lock_if_set", "obj_guarded_touch",
                 "obj_preempt_off", "obj_lock_and_hand_over", "obj_lock_then_inline"):
        assert fns[("precision.c", name)].acquires == [], name


def test_a_size_range_is_named_by_both_ends():
    # `sizeof(struct huge8m) + n` with u16 n: every size in it is over 4 MiB, and the message says
    # so by its range, not "up to" its top
    _, result = run_fixture("verdicts.c")
    msg = {f.function: f.message for f in result.findings}
    assert msg["bounded_all_past_kmalloc_max"].startswith("kmalloc() of 8388608 to 8454143 bytes with GFP_KERNEL always fails")
    assert msg["bounded_by_type"].startswith("kmalloc() of 1 to 256 bytes with GFP_KERNEL")


def test_calls_made_by_header_inlines_are_edges_only_with_through_inlines():
    # without --through-inlines the inline's callee is not reached, and it counts as entered from
    # anywhere for the must-scopes (no edge shows how the inline's caller runs)
    _, result = run_fixture("calls.c", through_inlines=False)
    sia = {f.function for f in result.findings if f.rule == "sleep-in-atomic"}
    assert "dev_refill" not in sia and "dev_refill_deep" not in sia
    assert "dev_each_fill" not in sia  # its caller's parameter, passed on through dev_for_each()
    red = {f.function for f in result.findings if f.rule == "redundant-nofs"}
    assert "nofs_leaf" in red and not red & {"dev_fill_nofs", "dev_fill_nofs_deep", "dev_fill_nofs_hooked"}
    _, with_inlines = run_fixture("calls.c")
    assert "dev_refill" in {f.function for f in with_inlines.findings if f.rule == "sleep-in-atomic"}


def test_section_primitives_come_from_the_catalog(tmp_path):
    """What a section macro expands to inside a header inline is named by the catalog's
    section_primitives, which a user can extend: an inline that calls one enters or leaves a
    section itself, so what it calls is no call of its caller (context._section_api())."""
    (tmp_path / "include").mkdir()
    (tmp_path / "include" / "quiet.h").write_text(
        "void quiet_hw_irq_restore(void);\n"
        "void quiet_refill(void **p);\n"
        "static inline void quiet_irqs_on_refill(void **p)\n{\n\tquiet_hw_irq_restore();\n\tquiet_refill(p);\n}\n")
    src = tmp_path / "quiet.c"
    src.write_text("#include <linux/slab.h>\n#include <linux/spinlock.h>\n#include \"include/quiet.h\"\n"
                   "static spinlock_t quiet_lock;\n"
                   "void quiet_refill(void **p)\n{\n\t*p = kmalloc(64, GFP_KERNEL);\n}\n"
                   "void quiet_flush(void **p)\n{\n\tspin_lock(&quiet_lock);\n\tquiet_irqs_on_refill(p);\n"
                   "\tspin_unlock(&quiet_lock);\n}\n")
    args = ["check", "-I", str(EXAMPLE_INCLUDE), "--through-inlines", "--select", "sleep-in-atomic",
            "--format", "json", "--fail-on", "never", "-q", "--no-cache", str(src)]

    def refills(extra):
        res = CliRunner().invoke(main, args + extra)
        assert res.exit_code == 0, res.output
        doc = json.loads(res.output[res.output.index("{"):])
        return [f["line"] for f in doc["findings"] if f["function"] == "quiet_refill"]

    assert refills([]) == [7]  # the built-in catalog does not know quiet_hw_irq_restore()
    cat = tmp_path / "ctx.json"
    cat.write_text(json.dumps({"section_primitives": ["quiet_hw_irq_"]}))
    assert refills(["--context-catalog", str(cat)]) == []
    cat.write_text(json.dumps({"section_primitives": "quiet_hw_irq_"}))
    res = CliRunner().invoke(main, args + ["--context-catalog", str(cat)])
    assert res.exit_code == 2 and "'section_primitives' must be a list of strings" in res.output, res.output

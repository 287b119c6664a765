"""The gfp expression evaluator: masks as written -> possible masks, on both layouts."""
import pytest
from hypothesis import given, strategies as st

from gfplint.frontend.ctext import GfpEnv, Unresolved, eval_gfp, eval_int_text, normalize, split_call, tokens
from gfplint.model.flags import layout

L12, L61 = layout("6.12"), layout("6.1")


def masks(text, lay=L12, **env):
    return [set(m) for m in eval_gfp(text, GfpEnv(lay, **env))]


def test_composites_by_layout():
    assert L12.value(eval_gfp("GFP_KERNEL", GfpEnv(L12))[0]) == 0xCC0
    assert L12.value(eval_gfp("GFP_ATOMIC", GfpEnv(L12))[0]) == 0x820
    assert L61.value(eval_gfp("GFP_ATOMIC", GfpEnv(L61))[0]) == 0xA20
    assert L12.value(eval_gfp("GFP_NOWAIT", GfpEnv(L12))[0]) == 0x2800
    assert L61.value(eval_gfp("GFP_NOWAIT", GfpEnv(L61))[0]) == 0x800


def test_or_and_not_parentheses_casts():
    assert masks("(GFP_KERNEL | __GFP_ZERO) & ~__GFP_FS") == [{"__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_IO", "__GFP_ZERO"}]
    assert masks("(__force gfp_t)GFP_NOIO") == [{"__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM"}]
    assert masks("GFP_KERNEL & ~__GFP_RECLAIM") == [{"__GFP_IO", "__GFP_FS"}]
    assert masks("0") == [set()]
    assert masks("___GFP_NOWARN") == [{"__GFP_NOWARN"}]


def test_ternary_gives_both_masks_and_ignores_the_condition():
    got = masks("in_interrupt() ? GFP_ATOMIC : GFP_KERNEL")
    assert {"__GFP_HIGH", "__GFP_KSWAPD_RECLAIM"} in got and len(got) == 2


def test_locals_all_reaching_assignments():
    env = {"locals": {"gfp": [("=", "GFP_NOFS"), ("=", "GFP_NOWAIT")]}}
    assert len(masks("gfp | __GFP_ZERO", **env)) == 2
    env = {"locals": {"gfp": [("=", "GFP_KERNEL"), ("|=", "__GFP_NOWARN")]}}
    got = masks("gfp", **env)
    assert len(got) == 2 and any("__GFP_NOWARN" in m for m in got)


def test_parameters_stay_symbolic():
    with pytest.raises(Unresolved) as e:
        eval_gfp("flags | __GFP_ZERO", GfpEnv(L12, params=frozenset({"flags"})))
    assert e.value.params == ("flags",)


@pytest.mark.parametrize("text", ["some_macro_we_do_not_know", "sbi->s_gfp", "mapping_gfp_mask(m)", "GFP_KERNEL ^ __GFP_FS",
                                  "~__GFP_FS", "GFP_KERNEL |", ""])
def test_anything_else_is_unresolved_never_guessed(text):
    with pytest.raises(Unresolved):
        eval_gfp(text, GfpEnv(L12))


def test_6_1_only_flag():
    assert masks("__GFP_ATOMIC", L61) == [{"__GFP_ATOMIC"}]
    with pytest.raises(Unresolved):
        eval_gfp("__GFP_ATOMIC", GfpEnv(L12))


@given(st.lists(st.sampled_from(sorted(L12.bits)), min_size=1, max_size=6))
def test_or_of_names_is_their_union(names):
    assert masks(" | ".join(names)) == [set(names)]


@given(st.sampled_from(sorted(L12.composites)), st.sampled_from(sorted(L12.bits)))
def test_and_not_removes_exactly_one_bit(comp, bit):
    assert masks(f"{comp} & ~{bit}") == [set(L12.composites[comp]) - {bit}]


def test_text_helpers():
    assert split_call("kmalloc(sizeof(*p), f(a, b) | X)") == ("kmalloc", ["sizeof(*p)", "f(a, b) | X"])
    assert split_call('kasprintf(GFP_KERNEL, "a,b(%d", n)') == ("kasprintf", ["GFP_KERNEL", '"a,b(%d"', "n"])
    assert split_call("not a call") is None
    assert normalize("p  ==\n NULL /* c */") == "p==NULL"
    assert tokens("a->b") == ["a", "->", "b"]
    assert eval_int_text("4096 * 2") == 8192
    assert eval_int_text("(1UL << 12)") == 4096
    assert eval_int_text("len + 1") is None
    assert eval_int_text("__import__('os')") is None
    assert eval_int_text("1 << 4000000000") is None  # bounded, never a huge integer
    assert eval_int_text("2 ** 10") is None
    assert eval_int_text("8 / 0") is None
    assert eval_int_text("-1 + 5") == 4

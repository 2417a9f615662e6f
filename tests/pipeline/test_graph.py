from __future__ import annotations

from pathlib import Path

import pytest

from gitflowml.errors import PipelineError
from gitflowml.pipeline import graph
from gitflowml.pipeline.loader import Out, Pipeline, Stage


def _pipeline(*specs: tuple[str, list[str], list[str]]) -> Pipeline:
    stages = {
        name: Stage(
            name=name, line=i, cmd=("true",), deps=tuple(deps), outs=tuple(Out(o) for o in outs)
        )
        for i, (name, deps, outs) in enumerate(specs)
    }
    return Pipeline(path=Path("pipeline.yaml"), stages=stages, groups={})


DIAMOND = _pipeline(
    ("prepare", ["raw.csv"], ["data/prepared"]),
    ("left", ["data/prepared"], ["left.pkl"]),
    ("right", ["data/prepared/part1.csv"], ["right.pkl"]),  # a file inside an out dir
    ("join", ["left.pkl", "right.pkl"], ["joined"]),
    ("lonely", ["other"], ["lonely.txt"]),
)


def test_edges_follow_outs_into_deps() -> None:
    g = graph.build(DIAMOND)
    assert g.upstream == {
        "prepare": frozenset(),
        "left": frozenset({"prepare"}),
        "right": frozenset({"prepare"}),
        "join": frozenset({"left", "right"}),
        "lonely": frozenset(),
    }


def test_a_dep_on_a_directory_waits_for_outs_inside_it() -> None:
    p = _pipeline(
        ("write", [], ["data/x.csv"]), ("read", ["data"], ["r"]), ("sibling", ["data-other"], ["s"])
    )
    g = graph.build(p)
    assert g.upstream["read"] == frozenset({"write"})
    assert g.upstream["sibling"] == frozenset()


def test_order_closures_and_ties_in_file_order() -> None:
    g = graph.build(DIAMOND)
    assert g.order() == ["prepare", "lonely", "left", "right", "join"]
    assert g.upstream_of(["join"]) == {"prepare", "left", "right", "join"}
    assert g.downstream(["left"]) == {"left", "join"}
    assert g.order(g.upstream_of(["right"])) == ["prepare", "right"]


@pytest.mark.parametrize(
    ("specs", "cycle"),
    [
        (
            (("a", ["b.out"], ["a.out"]), ("b", ["a.out"], ["b.out"])),
            ["a -> b -> a", "b -> a -> b"],
        ),
        ((("self", ["x"], ["x"]),), ["self -> self"]),
    ],
)
def test_cycles_are_printed(specs, cycle: list[str]) -> None:
    with pytest.raises(PipelineError) as info:
        graph.build(_pipeline(*specs))
    assert "stages form a cycle" in str(info.value)
    assert any(c in str(info.value) for c in cycle)


def test_a_thousand_stage_chain_builds_quickly_enough_to_be_linear() -> None:
    n = 1000
    specs = [(f"s{i}", [f"o{i - 1}"] if i else [], [f"o{i}"]) for i in range(n)]
    g = graph.build(_pipeline(*specs))
    assert g.order()[:3] == ["s0", "s1", "s2"]
    assert g.upstream_of(["s999"]) == {f"s{i}" for i in range(n)}

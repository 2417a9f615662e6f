from __future__ import annotations

import threading

import pytest

from gitflowml.util import parallel


@pytest.mark.parametrize("jobs", [1, 4])
def test_results_keep_their_order(jobs: int) -> None:
    items = list(range(2000))
    assert parallel.map_batched(lambda x: x * 2, items, jobs, lambda _: 1) == [x * 2 for x in items]


def test_work_is_spread_over_threads() -> None:
    seen: set[int] = set()
    barrier = threading.Barrier(2, timeout=10)

    def work(_x: int) -> None:
        me = threading.get_ident()
        if me not in seen:
            seen.add(me)
            barrier.wait()  # only returns once a second thread is working at the same time

    parallel.map_batched(work, list(range(4)), 2, lambda _: parallel.BATCH_BYTES)
    assert len(seen) == 2


def test_the_first_error_is_raised() -> None:
    def boom(x: int) -> int:
        if x == 700:
            raise ValueError("seven hundred")
        return x

    with pytest.raises(ValueError, match="seven hundred"):
        parallel.map_batched(boom, list(range(1000)), 3, lambda _: 1)


def test_batches_are_cut_by_weight_and_count() -> None:
    big = parallel._batches([parallel.BATCH_BYTES] * 3, lambda w: w)
    assert [len(b) for b in big] == [1, 1, 1]
    small = parallel._batches([1] * (parallel.BATCH_ITEMS + 1), lambda w: w)
    assert [len(b) for b in small] == [parallel.BATCH_ITEMS, 1]

"""Run I/O-heavy work on a thread pool, in batches so that small files do not drown in overhead.

xxhash and file reads release the GIL, so hashing and copying scale with threads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

BATCH_BYTES = 16 << 20
BATCH_ITEMS = 256


def _batches(items: Sequence[T], weight: Callable[[T], int]) -> list[list[T]]:
    batches: list[list[T]] = []
    current: list[T] = []
    load = 0
    for item in items:
        current.append(item)
        load += weight(item)
        if load >= BATCH_BYTES or len(current) >= BATCH_ITEMS:
            batches.append(current)
            current, load = [], 0
    if current:
        batches.append(current)
    return batches


def map_batched(
    func: Callable[[T], R], items: Sequence[T], jobs: int, weight: Callable[[T], int]
) -> list[R]:
    """`[func(x) for x in items]`, on up to `jobs` threads; order kept, first error raised."""
    batches = _batches(items, weight)
    if jobs <= 1 or len(batches) <= 1:
        return [func(item) for item in items]

    def run(batch: list[T]) -> list[R]:
        return [func(item) for item in batch]

    pool = ThreadPoolExecutor(max_workers=min(jobs, len(batches)))
    try:
        futures = [pool.submit(run, batch) for batch in batches]
        results: list[R] = []
        for future in futures:
            results.extend(future.result())
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results

"""The API over the data registry: other repositories' files and data."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gitflowml.registry.listing import Listing


def ls(url: str, path: str = "", *, rev: str | None = None, recursive: bool = False) -> Listing:
    """What repository `url` (anything `git clone` takes) holds under `path` at `rev`
    (default its HEAD): git files and tracked data, read without a checkout."""
    from gitflowml.registry import listing

    return listing.ls(url, path, rev, recursive)

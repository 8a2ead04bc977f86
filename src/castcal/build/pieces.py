"""Reusing rendered pieces: a feed's items, the series' VEVENTs, the page's entries, the
show notes as HTML. Each piece is kept under a fingerprint of everything it is made from;
an output rendered again takes the pieces it made last time that are still valid, and has
only the new and changed ones made."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from castcal.build.cache import Store

T = TypeVar("T")


def reuse(
    store: Store,
    namespace: str,
    keyed: Sequence[tuple[str, T]],
    make: Callable[[list[T]], Iterable[bytes]],
    keep: set[str] | None = None,
) -> list[bytes]:
    """The piece of each item of ``keyed`` (its key, the item), in order: those kept in
    ``namespace`` as they are, the others made by one call of ``make`` with their items.
    Then ``namespace`` keeps the pieces of ``keep`` (default: those just used)."""
    before = store.pieces(namespace)
    missing = [(index, item) for index, (key, item) in enumerate(keyed) if key not in before]
    out = [before.get(key, b"") for key, _ in keyed]
    for (index, _), data in zip(missing, make([item for _, item in missing]), strict=True):
        out[index] = data
    wanted = {key for key, _ in keyed} if keep is None else keep
    made = {key: out[index] for index, (key, _) in enumerate(keyed) if key not in before}
    store.update_pieces(namespace, {k: v for k, v in made.items() if k in wanted},
                        set(before) - wanted)  # fmt: skip
    return out

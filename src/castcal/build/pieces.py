"""Reusing rendered pieces: a feed's items, the series' VEVENTs, the page's entries, the
show notes as HTML. Each piece is kept under a fingerprint of everything it is made from;
an output rendered again takes the pieces it made last time that are still valid, and has
only the new and changed ones made."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Generic, TypeVar

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
    reusing = Reusing(store, namespace, keyed)
    return reusing.finish(make(reusing.missing()), keep)


def handed_over(pieces: list[bytes]) -> Iterator[bytes]:
    """Each of ``pieces``, in order, let go of once it is given (the list ends empty): a
    feed or a page put together of 10,000 pieces does not hold them and itself at once."""
    pieces.reverse()
    while pieces:
        yield pieces.pop()


class Reusing(Generic[T]):
    """Pieces being reused: those kept in ``namespace`` for the keys of ``keyed`` are
    found at once; the missing ones come to ``finish``, made by whatever makes them
    meanwhile (the pool's helpers, for a first build's feed items)."""

    def __init__(self, store: Store, namespace: str, keyed: Sequence[tuple[str, T]]) -> None:
        self.store, self.namespace, self.keyed = store, namespace, keyed
        self.before = store.pieces(namespace)

    def missing(self) -> list[T]:
        """The items whose pieces are to be made, in order."""
        return [item for key, item in self.keyed if key not in self.before]

    def finish(self, made: Iterable[bytes], keep: set[str] | None = None) -> list[bytes]:
        """Every item's piece, in order, ``made`` being those of the missing items; then
        the namespace keeps the pieces of ``keep`` (default: those just used)."""
        before, made = self.before, iter(made)
        out = [before[key] if key in before else next(made) for key, _ in self.keyed]
        if next(made, None) is not None:  # (which also lets go of what ``made`` holds)
            raise ValueError(f"more pieces made than the {self.namespace} missing")
        wanted = {key for key, _ in self.keyed} if keep is None else keep
        new = {key: piece for (key, _), piece in zip(self.keyed, out, strict=True)}
        new = {key: piece for key, piece in new.items() if key in wanted and key not in before}
        self.store.update_pieces(self.namespace, new, set(before) - wanted)
        return out

"""What the second phase of a build renders from (the project, the meetings' revisions,
the build's time, where pieces are kept), what it gives (each file rendered), and the
pieces several outputs share: each episode's show notes as HTML."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, TypeVar

from castcal.build import pieces
from castcal.build.cache import Store
from castcal.build.fresh import Outputs, fingerprint
from castcal.build.parallel import Pool
from castcal.content.models import Episode, Project
from castcal.render import notes
from castcal.render.facts import Revision
from castcal.write.writer import Data

T = TypeVar("T")


@dataclass(frozen=True)
class Inputs:
    """What the outputs are made from, and where their pieces are kept."""

    project: Project
    revisions: Mapping[str, Revision]  # each meeting's, by UID
    now: datetime  # the build's time: which meetings are still ahead
    segment_guids: Mapping[str, str]  # each segment feed's podcast:guid, by kind
    store: Store
    pool: Pool  # for rendering many pieces at once (a first build's feed items)


class Rendered(NamedTuple):
    name: str  # in feeds/
    print: str  # of everything it was made from
    data: Data


def stale(outputs: Outputs, name: str, print_: str) -> bool:
    """Whether output ``name`` must be made: not as made from inputs with this print."""
    return not outputs.fresh(name, print_)


def key(inputs: Inputs, made_from: tuple[object, ...]) -> str:
    """A piece's key: what it is made from, within the project (config.toml, the cover)."""
    return fingerprint(inputs.project.fingerprint, made_from)


def reuse(
    inputs: Inputs,
    namespace: str,
    keyed: Sequence[tuple[tuple[object, ...], T]],
    make: Callable[[list[T]], Iterable[bytes]],
) -> list[bytes]:
    """The pieces of ``keyed`` (what each is made from, the item), from ``namespace``."""
    keys = [(key(inputs, made_from), item) for made_from, item in keyed]
    return pieces.reuse(inputs.store, namespace, keys, make)


def notes_html(inputs: Inputs, episodes: Sequence[Episode]) -> dict[str, str]:
    """The show notes of ``episodes`` as HTML, by episode id: rendered once for every
    output that shows them, and kept while any episode has those notes."""
    with_notes = [e for e in episodes if e.notes_markdown]
    keyed = [(fingerprint("notes", e.notes_markdown), e.notes_markdown or "") for e in with_notes]
    everyone = {
        fingerprint("notes", e.notes_markdown) for e in inputs.project.episodes if e.notes_markdown
    }
    html = pieces.reuse(inputs.store, "notes", keyed, _to_html, keep=everyone)
    return {e.id: h.decode("utf-8") for e, h in zip(with_notes, html, strict=True)}


def _to_html(markdown: list[str]) -> list[bytes]:
    return [notes.to_html(text).encode("utf-8") for text in markdown]

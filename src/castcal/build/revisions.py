"""Each meeting's revision, as calendar clients need it: SEQUENCE goes up by one when its
time, place, status or title changes; LAST-MODIFIED moves with any change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from castcal.content.models import Event
from castcal.render.facts import Revision


def revise(
    previous: Mapping[str, Revision], events: Iterable[Event], now: datetime
) -> dict[str, Revision]:
    """Each meeting's revision by UID: an unchanged meeting keeps its own, a new one gets
    its first, stamped ``now``; a changed one is stamped ``now``, its SEQUENCE one higher
    if what changed is significant."""
    revisions = {}
    for event in events:
        old = previous.get(event.uid)
        if old is None:
            revisions[event.uid] = Revision(0, now, now, event.significant, event.content)
        elif old.content == event.content:
            revisions[event.uid] = old
        else:
            sequence = old.sequence + (old.significant != event.significant)
            revisions[event.uid] = Revision(
                sequence, old.created, now, event.significant, event.content
            )
    return revisions

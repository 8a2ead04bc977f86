"""The build's time: SOURCE_DATE_EPOCH when set, else the clock."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from castcal.errors import UsageError


def stamp_time() -> datetime:
    """The build's time: SOURCE_DATE_EPOCH when set (for reproducible builds), else now.
    What is due by then is published; it is stamped on new or changed meetings only, and
    recorded in the manifest, so an unchanged meeting keeps its stamps from build to build."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), UTC)
    except (ValueError, OverflowError):
        raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from None

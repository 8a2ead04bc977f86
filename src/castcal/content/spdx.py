"""The SPDX license identifiers a podcast's ``license`` may name without a ``license_url``:
the common ones for creative works and for software (podcast:license takes any SPDX id;
another license is named with its own slug and the URL of its text)."""

from __future__ import annotations

LICENSES = frozenset(
    {
        # Creative Commons, 4.0 and 3.0, and the public-domain dedications
        "CC0-1.0",
        "CC-PDDC",
        "CC-BY-4.0",
        "CC-BY-SA-4.0",
        "CC-BY-ND-4.0",
        "CC-BY-NC-4.0",
        "CC-BY-NC-SA-4.0",
        "CC-BY-NC-ND-4.0",
        "CC-BY-3.0",
        "CC-BY-SA-3.0",
        "CC-BY-ND-3.0",
        "CC-BY-NC-3.0",
        "CC-BY-NC-SA-3.0",
        "CC-BY-NC-ND-3.0",
        # Norway's licence for open government data
        "NLOD-1.0",
        "NLOD-2.0",
        # other licences for works and data
        "ODbL-1.0",
        "ODC-By-1.0",
        "PDDL-1.0",
        "FAL-1.3",
        "GFDL-1.3-only",
        "GFDL-1.3-or-later",
        "OGL-UK-3.0",
        "etalab-2.0",
        # software
        "MIT",
        "Apache-2.0",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "ISC",
        "MPL-2.0",
        "EUPL-1.2",
        "GPL-2.0-only",
        "GPL-2.0-or-later",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "LGPL-2.1-only",
        "LGPL-2.1-or-later",
        "LGPL-3.0-only",
        "LGPL-3.0-or-later",
        "AGPL-3.0-only",
        "AGPL-3.0-or-later",
        "Unlicense",
    }
)


def check_license(value: str, url: str | None) -> str:
    """``value`` as podcast:license writes it: an SPDX id, or any slug with its URL."""
    if url is None and value not in LICENSES:
        close = [known for known in sorted(LICENSES) if known.lower() == value.lower()]
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"{value!r} is not a known SPDX license identifier (like 'CC-BY-4.0'){hint}; "
            "for another license, give license_url with the URL of its text"
        )
    return value

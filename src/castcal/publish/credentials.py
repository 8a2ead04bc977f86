"""Every credential castcal can know of when it publishes, and any text with them blotted
out: what it prints must never carry a key, a secret or a session token, not even in an
error message an endpoint echoed back.

The credentials come from the environment (the podping token too), from the shared
credentials and config files (every profile in them, so the one selected is among them
whichever it is), and from what the AWS SDK resolved for the upload (an assumed role, a
credential process, SSO).
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

from castcal.errors import CastcalError, ContentError, Problem

if TYPE_CHECKING:
    from botocore.credentials import Credentials

ENVIRONMENT = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",  # the older name of the session token, still read by the SDK
    "PODPING_TOKEN",  # podping.cloud's token for the publisher (publish/hubs.py)
)
FILE_KEYS = (
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
)
# Where the SDK reads its files: the variable naming each, else the file in ~/.aws/.
FILES = (("AWS_SHARED_CREDENTIALS_FILE", "credentials"), ("AWS_CONFIG_FILE", "config"))
MASK = "***"
SHORTEST = 4  # shorter values are no secret worth the name, and would blot out words


@dataclass(frozen=True)
class Redactor:
    """Blots the credentials it holds out of text, in each form an endpoint may echo them."""

    secrets: tuple[str, ...] = ()

    def __call__(self, text: str) -> str:
        for secret in self.secrets:  # longest first: no part of one is left by a shorter
            text = text.replace(secret, MASK)
        return text

    def error(self, error: CastcalError) -> CastcalError:
        """``error`` with every credential blotted out of its message."""
        if isinstance(error, ContentError):
            return ContentError(
                Problem(p.path, p.field, self(p.message), p.remote) for p in error.problems
            )
        return type(error)(self(str(error)))  # each of the others: one message


def known(resolved: Credentials | None = None) -> Redactor:
    """A Redactor for every credential castcal can know of (see above); ``resolved``: the
    credentials the SDK found for the upload."""
    values = [os.environ.get(name) for name in ENVIRONMENT]
    for variable, name in FILES:
        values += _in_file(Path(os.environ.get(variable) or Path.home() / ".aws" / name))
    if resolved is not None:
        values += _resolved(resolved)
    return Redactor(_forms(value for value in values if value))


def _in_file(path: Path) -> list[str]:
    """The credentials of every profile in an AWS credentials or config file; none if it
    cannot be read (the SDK then says what is wrong with it)."""
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read(path.expanduser(), encoding="utf-8")
    except (OSError, UnicodeDecodeError, configparser.Error):
        return []
    return [
        parser.get(section, key)
        for section in parser.sections()
        for key in FILE_KEYS
        if parser.has_option(section, key)
    ]


def _resolved(credentials: Credentials) -> list[str]:
    from botocore.exceptions import BotoCoreError

    try:
        frozen = credentials.get_frozen_credentials()
    except BotoCoreError:
        return []  # the upload will fail on them, and say why
    return [value for value in (frozen.access_key, frozen.secret_key, frozen.token) if value]


def _forms(values: Iterable[str]) -> tuple[str, ...]:
    """Each value as it is, trimmed, and percent-encoded as in a URL or a form (a secret
    holds '/' and '+'), longest first."""
    forms: set[str] = set()
    for value in values:
        for form in (value, value.strip()):
            forms.update((form, quote(form, safe=""), quote_plus(form, safe="")))
    return tuple(sorted((f for f in forms if len(f) >= SHORTEST), key=lambda f: (-len(f), f)))

"""The files ``castcal init`` and ``castcal new`` write, as templates: every key an editor
may set, those still to fill commented out (so ``castcal check`` names each of them).

Values put into a template are TOML literals made by ``toml_string`` and the like, never
text pasted between quotes.
"""

from __future__ import annotations

import json
from datetime import date, datetime

CONFIG = """\
# A castcal project: podcast feeds and the meeting series' calendars from plain files.
# Each line marked "fill in" is still to fill: uncomment it and write the value.
# `castcal check` names every one still missing.

[site]
{base_url}
output = "feeds"                  # the folder castcal builds into
# fill in: the https:// address of your accessibility statement (uustatus.no); the pages
# link it, as the regulation on universal design of ICT asks of a public body
# accessibility_statement = "https://uustatus.no/nb/erklaringar/publisert/…"

[podcast]
# fill in: the show's name as podcast apps list it (one line)
# title = "…"
# fill in: what the show is about (plain text, at most 4000 bytes)
# description = \"\"\"…\"\"\"
# fill in: the show's language: "nb", "nn", "en" …
# language = "nb"
# fill in: who makes the show
# author = "…"
# fill in: who directories contact about the show
# owner = {{ name = "…", email = "…" }}
# fill in: square cover art, JPEG or PNG, 1400 to 3000 pixels, a file in this folder
# image = "cover.jpg"
# fill in: one or two of Apple's categories, exact casing
# categories = [["Business", "Management"], ["Government"]]
# fill in: true if the show has explicit content (an episode may say otherwise)
# explicit = false
{guid}
type = "episodic"                 # episodic | serial
# copyright = "© …"
# link = "https://…"              # the show's own web site
# apple_url = "https://…"         # the show in Apple Podcasts, for the show page
# spotify_url = "https://…"
# locked = true                   # podcast:locked: no other host may import the feed
# people = [{{ name = "…", role = "host" }}]

# The parts every episode has, in order: each gets a feed of its own.
[podcast.segments.endringspraten]
title = "Endringspraten"
description = "En samtale om hva endringsledelse er, med utgangspunkt i ulike perspektiver."

[podcast.segments.endringsnemda]
title = "Endringsnemda"
description = "Et panel drøfter konkrete saker som lytterne har sendt inn."

[calendar]                        # the meeting series
# fill in: the series' name, as calendars show it
# name = "…"
# fill in: what the series is (plain text)
# description = \"\"\"…\"\"\"
timezone = "Europe/Oslo"          # the meetings' local times are in this zone
default_start = "08:00"           # a meeting given only a date starts then
default_duration = "PT1H30M"      # a meeting given no end lasts this long
# fill in: where the meetings are, unless a meeting says otherwise
# location = "…"
# url = "https://…"               # the series' web page
refresh = "PT12H"                 # how often subscribers' calendars fetch the series
# alarm = "PT1H"                  # one reminder in each meeting's own file

# Where `castcal publish` uploads feeds/ (credentials come from the environment):
# [publish]
# target = "s3://bucket/prefix"
# endpoint_url = "https://…"      # for R2, MinIO, B2 …
# region = "eu-north-1"
# hubs = ["https://pubsubhubbub.appspot.com/"]
# pubnotify = "https://api.podcastindex.org/api/1.0/hub/pubnotify"
"""

BASE_URL_TO_FILL = """\
# fill in: where the feeds/ folder is served from, ending in "/"
# base_url = "https://www.example.org/podkast/\""""

GUID_TO_FILL = """\
# fill in: podcast:guid, the show's identity: made once from the feed's address and never
# changed, even if the feed moves. `castcal init --url URL` writes it.
# guid = "…\""""

GUID = """\
# podcast:guid: the show's identity, made once from the feed's address; never change it,
# even if the feed moves.
guid = {guid}"""

EPISODE = """\
# Episode {id}. Fill in the title, the summary and the segments, put the audio in this
# folder, then remove `draft = true`: the first build at or after `published` publishes it.
title = {title}
number = {number}
# season = 1
published = {published}   # when it goes live (local time, with its UTC offset)
audio = "audio.mp3"                         # a file in this folder, or an https:// URL
# alternates = ["audio.opus"]               # the episode in other formats besides
summary = {summary}
# notes = "notes.md"                        # Markdown show notes in this folder
# transcript = "transcript.vtt"             # a WebVTT transcript in this folder: the
#                                           # pages' text alternative (warned of until set)
# explicit = false                          # default: the show's
episode_type = "full"                       # full | trailer | bonus
# guid = "…"                                # only to keep a GUID the episode had elsewhere
draft = true                                # in no output until removed

# [[people]]
# name = "…"
# role = "guest"                            # host, co-host, guest, producer …
# segments = ["…"]                          # the segments they are in (default: all)
{segments}"""

SEGMENT = """
[[segments]]
kind = {kind}
start = {start}{start_note}
# title = "…"             # what this part is about: its item's title in the segment feed
#                         # (default: the episode's title and the part's name)
# audio = {audio}         # the part as a file of its own, for its segment feed
"""

MEETING = """\
# A meeting of the series. Fill in the title and the rest, then remove `draft = true`.
title = {title}
start = {start}     # local time in {zone}
end = {end}
{location}
# registration = "https://…"
# url = "https://…"
status = "confirmed"                # confirmed | tentative | cancelled
# description = \"\"\"…\"\"\"
draft = true                        # in no output until removed

# [[speakers]]
# name = "…"
# role = "…"
# affiliation = "…"
"""

NEXT_STEPS = """\
Wrote a new castcal project in {folder}:
  config.toml   the site, the show, its segments and the meeting series
  episodes/     one folder per episode
  events/       one file per meeting
Next:
  1. fill in config.toml: `castcal check` names every field still to fill
  2. put the cover art in the folder (image = "cover.jpg")
  3. castcal new episode ID    and    castcal new meeting DATE SLUG
  4. castcal build, then castcal serve to look at the result"""


def toml_string(value: str) -> str:
    """A TOML basic string of ``value`` (JSON's escapes are TOML's, and no control
    character is left unescaped)."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("\x7f", "\\u007f")


def toml_local(value: datetime | date) -> str:
    """A TOML local date-time (or date): no offset."""
    return value.isoformat()

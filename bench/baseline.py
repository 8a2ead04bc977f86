"""The plain-script baseline: the same essential work as a build, done the plain way with
none of castcal's features. Read every TOML, probe every audio file with mutagen, build
the feed with feedgen and the calendar with icalendar, write them."""

import sys
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import mutagen
from feedgen.feed import FeedGenerator
from icalendar import Calendar, Event

root, out = Path(sys.argv[1]), Path(sys.argv[2])
config = tomllib.loads((root / "config.toml").read_text("utf-8"))
base = config["site"]["base_url"]
fg = FeedGenerator()
fg.load_extension("podcast")
fg.title(config["podcast"]["title"])
fg.description(config["podcast"]["description"])
fg.link(href=base, rel="alternate")
fg.language(config["podcast"]["language"])
for folder in sorted((root / "episodes").iterdir()):
    episode = tomllib.loads((folder / "episode.toml").read_text("utf-8"))
    audio = folder / episode["audio"]
    info = mutagen.File(audio).info
    entry = fg.add_entry()
    entry.id(folder.name)
    entry.title(episode["title"])
    entry.description(episode["summary"])
    entry.published(episode["published"])
    entry.enclosure(f"{base}audio/{folder.name}.mp3", str(audio.stat().st_size), "audio/mpeg")
    entry.podcast.itunes_duration(round(info.length))
zone = ZoneInfo(config["calendar"]["timezone"])
calendar = Calendar()
calendar.add("prodid", "-//baseline//NB")
calendar.add("version", "2.0")
for path in sorted((root / "events").glob("*.toml")):
    meeting = tomllib.loads(path.read_text("utf-8"))
    event = Event()
    event.add("uid", f"{path.stem}@baseline")
    event.add("dtstamp", datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")))
    event.add("dtstart", meeting["start"].replace(tzinfo=zone))
    event.add(
        "dtend", meeting.get("end", meeting["start"] + timedelta(hours=1)).replace(tzinfo=zone)
    )
    event.add("summary", meeting["title"])
    event.add("description", meeting.get("description", ""))
    calendar.add_component(event)
out.mkdir(parents=True, exist_ok=True)
(out / "podcast.xml").write_bytes(fg.rss_str(pretty=True))
(out / "frokost.ics").write_bytes(calendar.to_ical())

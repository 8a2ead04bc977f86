"""iCalendar TEXT values escaped as RFC 5545 (3.3.11) asks, for the one case icalendar gets
wrong: it turns a backslash followed by N into a backslash and n before escaping (icalendar
7.3, parser/string.py, _escape_char, step 1), so "C:\\Nye filer" would reach calendars as
"C:\\nye filer". Everything else icalendar writes as it is."""

from __future__ import annotations

from icalendar import vText


class Text(vText):
    """A TEXT value whose every character reaches the reader as written."""

    def to_ical(self) -> bytes:
        escaped = str(self).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        for line_break in ("\r\n", "\r", "\n"):  # each kind of line break as one
            escaped = escaped.replace(line_break, "\\n")
        return escaped.encode("utf-8")

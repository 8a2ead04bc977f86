"""castcal: podcast feeds and event calendars from plain files."""

__version__ = "0.1.0"

"""The media: facts about audio files, and the published copies castcal makes of them."""

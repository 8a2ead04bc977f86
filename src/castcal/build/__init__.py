"""The build: the pipeline from content to written output, and what it remembers."""

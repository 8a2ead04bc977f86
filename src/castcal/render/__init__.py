"""The renderers: models and facts in, the bytes of each published file out; no disk."""

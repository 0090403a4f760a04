"""The demo: the national training conference of 14–15 June 2025, as the source report tells it."""

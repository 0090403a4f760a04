"""Per-session attendance at every broadcast point."""

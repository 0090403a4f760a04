"""Conferences and their agenda: days, sessions, topics, presenters and rooms."""

"""Broadcast points (điểm cầu): the main venue and every place that joins online."""

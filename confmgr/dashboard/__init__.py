"""Signed-in pages: what each organiser and coordinator manages."""

"""Delegates (đại biểu) and the categories (thành phần) each point must send."""

"""Extraction helpers (HTML main content -> structured plain text)."""

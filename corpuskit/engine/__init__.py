"""Execution engines other than the local process pool (imported only when asked for)."""

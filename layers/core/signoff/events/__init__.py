"""Lifecycle events of runs: the envelope, the per-run log, emitting and publishing to the bus.

See docs/internals.md ("Events") for the types and the data each carries.
"""

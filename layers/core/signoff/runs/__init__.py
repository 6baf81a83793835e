"""Runs: starting, reading, reconciling and settling workflow runs."""

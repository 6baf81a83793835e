"""Workflows: the use cases behind /workflows."""

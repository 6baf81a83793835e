"""Shared test material: the small workflows several test layers run."""

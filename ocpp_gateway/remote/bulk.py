"""Placeholder: filled by issue 21's work."""

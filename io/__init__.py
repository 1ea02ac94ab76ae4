"""Readers and writers (placeholder until io lands)."""

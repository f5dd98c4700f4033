"""Indicator engines."""

"""Kho web package."""

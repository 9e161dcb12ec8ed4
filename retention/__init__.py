"""Kho retention package."""

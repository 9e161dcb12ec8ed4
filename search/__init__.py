"""Kho search package."""

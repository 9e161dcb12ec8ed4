"""Kho ingest package."""

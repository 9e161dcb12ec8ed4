"""Shared core of Kho: configuration, errors, time and Vietnamese text helpers."""

"""Warnings in the log, with ``logging`` imported only when one is written: a reading command
(``kho whoami``, ``kho search``) never writes one, and importing ``logging`` (and ``string``,
``traceback`` … with it) at start-up is time every command pays (``tests/web/test_cli_startup.py``)."""

from __future__ import annotations


def warn(logger: str, message: str, *args: object) -> None:
    """``logging.getLogger(logger).warning(message, *args)``."""
    import logging

    logging.getLogger(logger).warning(message, *args)

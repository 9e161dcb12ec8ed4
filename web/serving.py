"""The end of a web process: its installation closed, its last written head noted.

Every process that writes notes the newest audit event it wrote outside the store
(:data:`repository.rollback.WRITTEN_HEAD`), at most every ``NOTE_EVERY`` seconds; the head of the
last moments is noted by a timer, which dies with the process. A web process therefore closes its
installation when it ends: ``kho serve`` when it is stopped, and each gunicorn worker through the
``worker_exit`` hook of this module, which ``kho serve --production`` and the web container pass
to gunicorn as its configuration (``--config python:web.serving``; gunicorn reads the names of
its settings from this module and ignores the others).
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def close_app(app: Flask) -> None:
    """Close the installation the app serves (:meth:`web.context.Kho.close`)."""
    kho = app.extensions.get("kho")
    if kho is not None:
        kho.close()


def worker_exit(server: Any, worker: Any) -> None:
    """gunicorn's hook, called in a worker process as it ends (a graceful stop, a restart, a
    worker replaced after its requests): its app's installation is closed."""
    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        close_app(app)

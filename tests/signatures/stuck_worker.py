"""A verification worker for the pool's tests (``python stuck_worker.py MODE MB``), started
through ``VerifierPool(command=...)``: the real worker loop, with its housekeeping after each
reply stuck for an hour (``after-reply``), or never ready at all (``never-ready``)."""

import sys
import time

from ingest.signatures._pool import worker_main

if __name__ == "__main__":
    mode, memory_mb = sys.argv[1], int(sys.argv[2])
    if mode == "never-ready":
        time.sleep(3600)
    worker_main(memory_mb, after_reply=lambda: time.sleep(3600))

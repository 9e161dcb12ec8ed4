"""Entry point of a verification worker process: ``python -m ingest.signatures._worker MB``."""

import sys

from ingest.signatures._pool import worker_main

if __name__ == "__main__":
    worker_main(int(sys.argv[1]) if len(sys.argv) > 1 else 2048)

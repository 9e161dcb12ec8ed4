"""Entry point of a bounded pdfium worker process: ``python -m ingest.text._worker KIND MB``
(:mod:`ingest.text.box`)."""

import sys

from ingest.text.box import worker_main

if __name__ == "__main__":
    worker_main(sys.argv[1], int(sys.argv[2]))

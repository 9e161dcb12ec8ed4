"""The signature corpus (``corpora/pdf``) verified once for a test run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ingest.signatures import PdfVerification, TrustStore, verify_pdf


class CorpusVerdicts:
    """``verify_pdf`` of corpus files with the corpus trust store at one moment, each file
    verified once for the whole run however many tests read its result: the corpus rule
    (test_sig_corpus.py) and the comparison with stock pyHanko at the same moment
    (test_sig_fast_diff.py) read the same verdicts (each verification is a frozen result, so
    sharing it changes nothing a test sees; it was ~2 walks of the corpus)."""

    def __init__(self, folder: Path, trust: TrustStore) -> None:
        self.folder = folder
        self.trust = trust
        self.moment = datetime.now(UTC)
        self._done: dict[str, PdfVerification] = {}

    def __getitem__(self, name: str) -> PdfVerification:
        if name not in self._done:
            self._done[name] = verify_pdf((self.folder / name).read_bytes(), self.trust, now=self.moment)
        return self._done[name]

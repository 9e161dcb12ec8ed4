"""NOTES-a10: which agency each real seal of the corpus names, and what a typed sender gets.

    .venv/bin/python bench/a10_corpus_agencies.py [../shared/corpora/pdf]

Each Vietnamese PDF of the corpus is verified as ingest does (``verify_pdf``, trust from
``trust/`` beside the manifest); every signature's certificate fields and kind are printed, then
the agency the rule reads from it (``SealAgency``, as ``ingest.pipeline.signing_agencies`` builds
it; here also for a signature that is not trusted offline, so that every certificate is shown)
and, for a few typed senders, whether ``seal_names_sender`` passes it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ingest.pipeline import signing_agencies, signing_organisations
from ingest.signatures import TrustStore, verify_pdf
from ingest.signatures.model import SignerKind
from repository.registration import PdfIdentity, SealAgency, seal_names_sender

TYPED = (
    "UBND tỉnh Quảng Ngãi",
    "Ủy ban nhân dân tỉnh Quảng Ngãi",
    "Văn phòng UBND tỉnh Quảng Ngãi",
    "Tỉnh Quảng Ngãi",
    "Sở Tài chính tỉnh Quảng Ngãi",
    "Trung tâm Công báo và Tin học",
    "Bộ Khoa học và Công nghệ",
    "Bộ KH&CN",
    "Cục Tần số vô tuyến điện",
    "Văn phòng Chính phủ",
    "Cổng Thông tin điện tử Chính phủ",
    "Thủ tướng Chính phủ",
)


def main(base: Path) -> None:
    trust = TrustStore.from_dir(base / "trust")
    seen: dict[tuple[str, str, str, str, bool], SealAgency] = {}
    per_file = []
    for path in sorted(base.glob("vn-*.pdf")):
        result = verify_pdf(path.read_bytes(), trust)
        stored = signing_agencies(result.signatures)  # what ingest keeps: trusted signatures only
        agencies = PdfIdentity.read({"signature_agencies": stored}, {}).agencies
        per_file.append((path.name, [a.shown for a in agencies], signing_organisations(result.signatures)))
        for s in result.signatures:
            if s.signer is None:
                continue
            seal = s.signer_kind is SignerKind.ORGANISATION
            agency = SealAgency(
                cn=(s.signer.common_name or "") if seal else "",
                o=s.signer.organisation or "",
                ou=(s.signer.organisational_unit or "") if seal else "",
                seal=seal,
            )
            key = (s.signer.common_name or "", agency.o, s.signer.organisational_unit or "", "", seal)
            if key not in seen:
                seen[key] = agency
                print(
                    f"{path.name}\t{s.signer_kind.value}\ttrusted={s.trusted}\tCN={s.signer.common_name}"
                    f"\tO={s.signer.organisation}\tOU={s.signer.organisational_unit}"
                )
    print("\nAs ingest keeps them (trusted only): file, a10 agencies, a9 flat list")
    for name, shown, flat in per_file:
        print(f"{name}\t{shown}\t{flat}")
    print()
    for (cn, o, ou, _, seal), agency in seen.items():
        passed = [t for t in TYPED if seal_names_sender(t, (agency,)).matches]
        print(f"{'seal' if seal else 'personal'} CN={cn!r} O={o!r} OU={ou!r} -> agency {agency.shown!r}")
        print(f"    passes: {passed}")
        print(f"    refused: {[t for t in TYPED if t not in passed]}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpora/pdf"))

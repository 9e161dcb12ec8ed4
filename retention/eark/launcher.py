"""Run the E-ARK validator (``eark-validator`` from PyPI) on one package, offline; print JSON.

Runs in the validator's own virtual environment (``scripts/install.sh`` makes it), never imported
by Kho. ``eark-validator`` 1.1.x reads four CSIP vocabularies from earkcsip.dilcis.eu when it is
imported; the same files ship inside the package (``ipxml/resources/vocabs``), so an opener
serving those four addresses from them is installed first (a documented ``urllib`` hook) and any
other address is refused: the validation never depends on the network.

Output: ``{"valid": bool, "structure": str, "errors": [{"rule", "message", "location"}],
"warnings": n}``; exit status 0 when valid, 1 when not, 2 when the validator failed.
"""

from __future__ import annotations

import io
import json
import sys
import urllib.request
from email.message import Message
from importlib.resources import files
from pathlib import Path

VOCAB_BASE = "https://earkcsip.dilcis.eu/schema/"

KNOWN_DEFECTS = {
    "SIP14": "eark-validator 1.1.3 tests an unqualified @NOTETYPE on the creator agent's note, an"
    " attribute METS' own schema forbids (CSIP16 requires @csip:NOTETYPE='SOFTWARE VERSION' there):"
    " no package can satisfy both, so it is reported as a warning, not an error.",
}


class _Vocabularies(urllib.request.BaseHandler):
    handler_order = 100  # before the default http(s) handlers

    def https_open(self, req: urllib.request.Request) -> urllib.response.addinfourl:
        url = req.full_url
        if not url.startswith(VOCAB_BASE):
            raise urllib.error.URLError(f"offline: {url}")
        name = url[len(VOCAB_BASE) :]
        data = files("eark_validator.ipxml.resources.vocabs").joinpath(name).read_bytes()
        response = urllib.response.addinfourl(io.BytesIO(data), Message(), url, 200)
        response.msg = "OK"
        return response

    http_open = https_open


def main() -> int:
    urllib.request.install_opener(urllib.request.build_opener(_Vocabularies()))
    from eark_validator.model.validation_report import Severity
    from eark_validator.packages import PackageValidator

    path = Path(sys.argv[1])
    report = PackageValidator(path).validation_report
    errors, warnings = [], 0
    structure = report.structure.status.value if report.structure else "UNKNOWN"
    for result in report.structure.messages if report.structure else []:
        if result.severity == Severity.ERROR:
            errors.append({"rule": result.rule_id, "message": result.message, "location": result.location})
    if report.metadata is not None:
        for part in (report.metadata.schema_results, report.metadata.schematron_results):
            for result in part.messages:
                if result.severity == Severity.ERROR and result.rule_id in KNOWN_DEFECTS:
                    warnings += 1
                elif result.severity == Severity.ERROR:
                    errors.append(
                        {"rule": result.rule_id, "message": result.message, "location": result.location}
                    )
                elif result.severity == Severity.WARNING:
                    warnings += 1
    valid = (
        structure.upper() not in ("NOTWELLFORMED", "WELLFORMED_FAIL")
        and not errors
        and report.metadata is not None
    )
    print(json.dumps({"valid": valid, "structure": structure, "errors": errors, "warnings": warnings}))
    return 0 if valid else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:
        print(
            json.dumps(
                {
                    "valid": False,
                    "structure": "ERROR",
                    "errors": [
                        {
                            "rule": "VALIDATOR_FAILED",
                            "message": f"{type(exc).__name__}: {exc}",
                            "location": "",
                        }
                    ],
                    "warnings": 0,
                }
            )
        )
        sys.exit(2)

"""The destruction dossier kept beside its hồ sơ carries its format version (m9: the one stored
kind found without one besides the intake's catalog marker).

``retention.destruction`` wrote ``records/<hồ sơ>/derived/destruction-dossier.json`` with a bare
``json.dumps`` and read it with ``json.loads``. It is now a derived kind of
:mod:`repository.formats`: stamped on write, an old dossier (no version) read as before, a newer
one refused with ``FORMAT_UNSUPPORTED``; the dossier a reader is shown is unchanged."""

from __future__ import annotations

import json

import pytest
from kho_people import PASSWORD, People
from kho_retention import closed_file, council_ready

from kho.errors import FormatUnsupported
from repository import formats
from retention.destruction import DOSSIER_NAME
from web.context import Kho


def test_the_dossier_is_stamped_an_old_one_reads_and_a_newer_one_is_refused(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    d.decide(case["case_id"], "Quyết định số 09/QĐ-UBND", approve=True, actor=people.actor("lanh_dao"))
    archivist = people.actor("luu_tru")
    done = d.execute(case["case_id"], PASSWORD, actor=archivist)
    file_id = done["execution"]["dossier_file_id"]
    stored = json.loads(kho.repo.get_derived(file_id, DOSSIER_NAME))
    assert stored[formats.FORMAT_KEY] == formats.DERIVED_DESTRUCTION_DOSSIER.current  # before: none
    shown = d.dossier(case["case_id"], actor=archivist)
    assert formats.FORMAT_KEY not in shown and shown["quyet_dinh_huy"]["ref"] == "Quyết định số 09/QĐ-UBND"

    old = {k: v for k, v in stored.items() if k != formats.FORMAT_KEY}  # as written before m9
    kho.repo.put_derived(file_id, DOSSIER_NAME, json.dumps(old, ensure_ascii=False).encode())
    assert d.dossier(case["case_id"], actor=archivist) == shown

    newer = {**stored, formats.FORMAT_KEY: formats.DERIVED_DESTRUCTION_DOSSIER.current + 1}
    kho.repo.put_derived(file_id, DOSSIER_NAME, json.dumps(newer, ensure_ascii=False).encode())
    with pytest.raises(FormatUnsupported) as refused:
        d.dossier(case["case_id"], actor=archivist)
    assert refused.value.code == "FORMAT_UNSUPPORTED" and "nâng cấp Kho" in refused.value.message
    assert json.loads(kho.repo.get_derived(file_id, DOSSIER_NAME)) == newer  # nothing overwritten

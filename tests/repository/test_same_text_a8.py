"""The same văn bản đến written differently (a8): one key for "the same text" (NFC, case,
zero-width and format characters, Unicode spaces, look-alike letters, tone-mark placement,
full-width forms, slashes and dashes) decides the (số, ký hiệu, cơ quan, năm) duplicate; a ký
hiệu or a số with look-alike characters is refused at the edge, so two numbers never print
alike in the register."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, make_store, new_repository

from kho.errors import Duplicate, ValidationFailed
from kho.textkey import canonical_text, foreign_letters, text_key
from repository import metadata as metadata_module
from repository import records as records_module
from repository.records import Repository

SENDER = "UBND xã Hòa Bình"

# How an outsider (or a careless copy and paste) writes the same sender so that it looks the
# same on screen and in the printed register.
SENDER_SPELLINGS = {
    "old tone placement (Hoà)": "UBND xã Hoà Bình",
    "Cyrillic В": "UВND xã Hòa Bình",
    "Cyrillic о and а": "UBND xã Hòа Bình",
    "Greek Β and Ν": "UΒΝD xã Hòa Bình",
    "zero-width space": "UBND xã Hòa\u200b Bình",
    "zero-width joiner inside a word": "UBND xã Hò\u200da Bình",
    "byte-order mark": "\ufeffUBND xã Hòa Bình",
    "word joiner": "UBND\u2060 xã Hòa Bình",
    "soft hyphen": "UBND xã Hòa Bì\u00adnh",
    "full-width letters": "ＵＢＮＤ xã Hòa Bình",
    "NFD and upper case": unicodedata.normalize("NFD", "UBND XÃ HÒA BÌNH"),
    "thin and ideographic spaces": "UBND\u2009xã\u3000Hòa Bình",
}


@pytest.mark.parametrize("text", list(SENDER_SPELLINGS.values()), ids=list(SENDER_SPELLINGS))
def test_every_spelling_of_a_sender_has_the_same_key(text: str) -> None:
    assert text_key(text) == text_key(SENDER)
    assert canonical_text(text).casefold() == "ubnd xã hòa bình"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Hùng", "Hưng"),  # a vowel mark makes another letter
        ("An", "Ân"),
        ("Đông", "Dong"),  # đ is not d
        ("Đông", "Đồng"),  # the tone counts
        ("hoàn", "hoan"),
        ("quý", "qúy"),  # after q the u belongs to the consonant: nothing moves
        ("12/QĐ-UBND", "12/QĐ-UBNDD"),
    ],
)
def test_different_texts_keep_different_keys(a: str, b: str) -> None:
    assert text_key(a) != text_key(b)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("１２/ＱĐ－ＵＢＮＤ", "12/QĐ-UBND"),
        ("12∕QĐ‐UBND", "12/QĐ-UBND"),
        ("12⁄QĐ–UBND", "12/QĐ-UBND"),
        ("12/QÐ-UBND", "12/QĐ-UBND"),  # U+00D0 Icelandic eth
        ("12/QD\u0335-UBND", "12/QĐ-UBND"),  # D + combining short stroke
        ("Sở Thuỷ lợi", "Sở Thủy lợi"),
        ("Khoẻ", "Khỏe"),
    ],
)
def test_codes_and_words_are_written_one_way(text: str, canonical: str) -> None:
    assert canonical_text(text) == canonical


def test_foreign_letters_are_named_and_vietnamese_ones_are_not() -> None:
    assert foreign_letters("Ủy ban nhân dân tỉnh Quảng Ngãi, QĐ-UBND 12/2026") == []
    assert foreign_letters("QÐ-UВND\u200b") == ["Ð", "В", "\u200b"]
    assert foreign_letters("ＱĐ-UBND") == ["Ｑ"]


@pytest.mark.parametrize("spelling", list(SENDER_SPELLINGS.values()), ids=list(SENDER_SPELLINGS))
def test_same_document_from_a_sender_spelt_differently_is_a_duplicate(
    spelling: str, repo: Repository
) -> None:
    first = repo.create_document("den", incoming(organ_name=SENDER), None, None, CLERK)
    with pytest.raises(Duplicate) as info:
        repo.create_document("den", incoming(organ_name=spelling), None, None, CLERK)
    assert info.value.code == "DUPLICATE_DOCUMENT"
    assert info.value.details["existing_record_id"] == first.record_id
    assert [r.record_id for r in repo.register("den", 2026, actor=CLERK)] == [first.record_id]
    # A reason registers it again, as for any resent document.
    again = repo.create_document(
        "den", incoming(organ_name=spelling), None, None, CLERK, duplicate_reason="Gửi lại bản có dấu"
    )
    assert again.registration is not None and again.registration.number == 2


def test_sender_spelling_does_not_bypass_the_duplicate_on_s3(backend: str, tmp_path: Path) -> None:
    repo = new_repository(make_store(backend, tmp_path, "s"), make_store(backend, tmp_path, "k"))
    first = repo.create_document("den", incoming(organ_name=SENDER), None, None, CLERK)
    for spelling in ("UBND xã Hoà Bình", "UВND xã Hòa Bình", "UBND xã Hòa\u200b Bình"):
        with pytest.raises(Duplicate) as info:
            repo.create_document("den", incoming(organ_name=spelling), None, None, CLERK)
        assert info.value.details["existing_record_id"] == first.record_id
    assert len(repo.register("den", 2026, actor=CLERK)) == 1


def _record_keys(repo: Repository) -> list[str]:
    return sorted(i.key for p in ("records/", "claims/") for i in repo.store.list(p))


@pytest.mark.parametrize(
    "notation",
    ["QÐ-UBND", "QĐ-UВND", "ＱĐ-UBND", "QĐ-UΒND"],
    ids=["eth", "cyrillic-ve", "full-width-q", "greek-beta"],
)
def test_a_look_alike_ky_hieu_is_refused_before_anything_is_written(notation: str, repo: Repository) -> None:
    first = repo.create_document(
        "den", incoming(code_number="12", code_notation="QĐ-UBND"), None, None, CLERK
    )
    keys = _record_keys(repo)
    with pytest.raises(ValidationFailed) as info:
        repo.create_document("den", incoming(code_number="12", code_notation=notation), None, None, CLERK)
    error = next(e for e in info.value.errors if e.field == "code_notation")
    assert error.code == "CODE_LOOKALIKE_CHARS"
    assert error.message == unicodedata.normalize("NFC", error.message)
    assert f"U+{ord(foreign_letters(notation)[0]):04X}" in error.message
    # The register still holds one "12/QĐ-UBND", not two that print alike.
    assert [r.so_ky_hieu for r in repo.register("den", 2026, actor=CLERK)] == ["12/QĐ-UBND"]
    assert [r.record_id for r in repo.register("den", 2026, actor=CLERK)] == [first.record_id]
    assert _record_keys(repo) == keys


@pytest.mark.parametrize("number", ["1٢", "1２", "1𝟐", "1߂"])
def test_a_number_in_digits_of_another_script_is_refused(number: str, repo: Repository) -> None:
    repo.create_document("den", incoming(code_number="12"), None, None, CLERK)
    with pytest.raises(ValidationFailed) as info:
        repo.create_document("den", incoming(code_number=number), None, None, CLERK)
    assert [e.code for e in info.value.errors if e.field == "code_number"] == ["CODE_NUMBER_INVALID"]
    assert [r.metadata.code_number for r in repo.register("den", 2026, actor=CLERK)] == ["12"]


def test_a_guard_of_the_earlier_formula_still_guards(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document an earlier Kho registered with the old tone placement holds the guard of the
    old formula (NFC and case only); the same document typed the same way again is still a
    duplicate, though the new key writes "Hoà" as "Hòa"."""
    with monkeypatch.context() as old_kho:
        old_kho.setattr(records_module, "duplicate_key", records_module.legacy_duplicate_key)
        first = repo.create_document("den", incoming(organ_name="UBND xã Hoà Bình"), None, None, CLERK)
    for spelling in ("UBND xã Hoà Bình", "ubnd xã hoà bình"):
        with pytest.raises(Duplicate) as info:
            repo.create_document("den", incoming(organ_name=spelling), None, None, CLERK)
        assert info.value.details["existing_record_id"] == first.record_id
    assert len(repo.register("den", 2026, actor=CLERK)) == 1


def test_a_ky_hieu_stored_before_the_rule_can_still_be_corrected(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record stored with a look-alike ký hiệu (before this rule) is not frozen: its other
    fields can be corrected; its ký hiệu is not judged again while it is kept as stored."""
    with monkeypatch.context() as old_kho:
        old_kho.setattr(metadata_module, "foreign_letters", lambda text: [])
        old = repo.create_document("den", incoming(code_notation="BNV-VР"), None, None, CLERK)
    corrected = repo.update_metadata(
        old.record_id, {"subject": "Về việc sửa trích yếu"}, expected_version=1, actor=CLERK
    )
    assert corrected.metadata.code_notation == "BNV-VР"
    assert corrected.metadata.subject == "Về việc sửa trích yếu"


def _file(**overrides: str) -> dict[str, str]:
    raw = {
        "file_notation": "01.TCCB",
        "title": "Hồ sơ bổ nhiệm",
        "maintenance": "70 năm",
        "creator": "Phòng TCCB",
        "start_date": "2026-01-05",
    }
    raw.update(overrides)
    return raw


@pytest.mark.parametrize("notation", ["０1.TCCB", "𝟎𝟏.TCCB", "0١.TCCB"])
def test_a_file_code_in_digits_of_another_script_is_refused(notation: str, repo: Repository) -> None:
    """Two hồ sơ "…2026.01.TCCB" and "…2026.０1.TCCB" print alike in the mục lục and the
    nộp lưu lists; the second is refused, nothing is written for it."""
    first = repo.create_file(_file(), CLERK)
    keys = _record_keys(repo)
    with pytest.raises(ValidationFailed) as info:
        repo.create_file(_file(file_notation=notation), CLERK)
    assert [e.code for e in info.value.errors] == ["FILE_NOTATION_INVALID"]
    assert _record_keys(repo) == keys
    assert first.metadata.file_code.endswith(".2026.01.TCCB")


def test_a_plan_item_numbered_in_full_width_digits_is_refused() -> None:
    from retention import fileplan

    raw = {
        "year": 2026,
        "headings": [{"number": "I", "title": "Tổ chức cán bộ", "abbreviation": "TCCB"}],
        "items": [
            {"notation": n, "title": f"Hồ sơ {i}", "maintenance": "10 năm", "creator": "VP", "heading": "I"}
            for i, n in enumerate(["01.TCCB", "０2.TCCB"], start=1)
        ],
    }
    with pytest.raises(ValidationFailed) as info:
        fileplan.parse_plan(raw, organ_id="000.00.18.H40")
    assert [(e.field, e.code) for e in info.value.errors] == [("items[2].notation", "PLAN_NOTATION_INVALID")]


# --- the signer gate: a look-alike never passes, a genuine NFD spelling does ---------------------


@pytest.mark.parametrize(
    ("named", "certificate"),
    [
        ("Nguyễn Văn An", "Nguyễn Văn Аn"),  # Cyrillic А in the certificate
        ("Nguyễn Văn An", "Nguyễn Văn A\u200bn"),  # zero-width space in the certificate
        ("Đỗ Thị Khuê", "Ðỗ Thị Khuê"),  # eth in the certificate
        ("Nguyễn Văn Аn", "Nguyễn Văn An"),  # the look-alike typed as the signer
        ("Ｎguyễn Văn An", "Nguyễn Văn An"),
    ],
)
def test_a_look_alike_signer_never_passes_and_the_refusal_says_why(named: str, certificate: str) -> None:
    from repository.registration import signer_gate
    from repository.vocabulary import Direction

    gate = signer_gate(Direction.DI, named, [certificate], None, signature_count=1)
    assert not gate.allowed and gate.code == "SIGNER_MISMATCH"
    odd = (foreign_letters(certificate) + foreign_letters(named))[0]
    assert f"U+{ord(odd):04X}" in (gate.message or "")
    assert "trông giống nhau" in (gate.message or "")


@pytest.mark.parametrize(
    ("named", "certificate"),
    [
        (unicodedata.normalize("NFD", "Trần Thị Hoà"), "Trần Thị Hòa"),
        ("Trần Thị Hòa", unicodedata.normalize("NFD", "TRẦN THỊ HOÀ")),
        ("Trần\u00a0Thị  Hòa", "Trần Thị Hoà"),
        (unicodedata.normalize("NFD", "Đỗ Thị Khuê"), "DO THI KHUE"),
    ],
)
def test_a_genuine_spelling_of_the_signer_passes(named: str, certificate: str) -> None:
    from repository.registration import signer_gate
    from repository.vocabulary import Direction

    assert signer_gate(Direction.DI, named, [certificate], None, signature_count=1).allowed


def test_every_format_character_is_dropped_from_plain_text() -> None:
    """Every code point of category Cf (zero-width, joiners, bidi marks, soft hyphen, tags...):
    the list kho.textkey writes out is checked against Unicode here, not walked at import."""
    from kho.textkey import plain_text

    found = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    assert len(found) > 160
    assert [f"U+{ord(c):04X}" for c in found if plain_text(f"a{c}b") != "ab"] == []


def test_the_guard_migration_closes_the_gap_of_records_registered_before(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record registered before a8 as "Hoà" held only the earlier guard: the same document
    typed "Hòa" now was not caught. The migration takes the current guard for it (once:
    idempotent), tells of pairs the current key sees as one, changes nothing else; the
    operator's act only, audited."""
    from kho.errors import PermissionDenied
    from repository.records import SYSTEM

    with monkeypatch.context() as old_kho:
        old_kho.setattr(records_module, "duplicate_key", records_module.legacy_duplicate_key)
        old = repo.create_document("den", incoming(organ_name="UBND xã Hoà Bình"), None, None, CLERK)
        repo.create_document("den", incoming(code_number="1235"), None, None, CLERK)
        pair = [
            repo.create_document("den", incoming(code_number="77", organ_name=o), None, None, CLERK)
            for o in ("Sở Thuỷ lợi", "Sở Thủy lợi")
        ]
    with pytest.raises(PermissionDenied):
        repo.reclaim_duplicate_guards(CLERK)
    versions = sorted(i.key for i in repo.store.list("records/"))
    done = repo.reclaim_duplicate_guards(SYSTEM)
    # "Hoà" takes the current guard; "Thuỷ" finds it held by "Thủy" (whose spelling the earlier
    # formula already keyed so): a pair for a person to look at.
    assert (done.checked, done.taken) == (4, 1)
    assert done.shared == ((pair[0].record_id, pair[1].record_id),)
    assert sorted(i.key for i in repo.store.list("records/")) == versions
    with pytest.raises(Duplicate) as info:
        repo.create_document("den", incoming(organ_name="UBND xã Hòa Bình"), None, None, CLERK)
    assert info.value.details["existing_record_id"] == old.record_id
    again = repo.reclaim_duplicate_guards(SYSTEM)
    assert (again.checked, again.taken) == (4, 0)
    events = [e for e in repo.audit.events() if e.action == "migration:duplicate-guards"]
    assert [e.details["taken"] for e in events] == [1, 0]


def test_a_correction_cannot_make_two_registered_documents_the_same(repo: Repository) -> None:
    """The guard was taken at registration only: a second document registered as "BNV-VP1"
    and corrected to "BNV-VP" (or its sender to a look-alike of the first's) made two entries
    of the sổ the same document. The correction now takes the new guard and gives back the old."""
    first = repo.create_document("den", incoming(), None, None, CLERK)
    second = repo.create_document("den", incoming(code_notation="BNV-VP1"), None, None, CLERK)
    for changes in (
        {"code_notation": "BNV-VP"},
        {"code_notation": "BNV-VP", "organ_name": "Bộ Nội vụ\u200b"},
    ):
        with pytest.raises(Duplicate) as info:
            repo.update_metadata(second.record_id, changes, expected_version=1, actor=CLERK)
        assert info.value.details["existing_record_id"] == first.record_id
    assert repo.get(second.record_id, actor=CLERK).metadata.code_notation == "BNV-VP1"
    # A correction to a free ký hiệu moves the guard: the old one is free for a real document.
    moved = repo.update_metadata(
        second.record_id, {"code_notation": "BNV-TH"}, expected_version=1, actor=CLERK
    )
    assert moved.version == 2
    third = repo.create_document("den", incoming(code_notation="BNV-VP1"), None, None, CLERK)
    with pytest.raises(Duplicate):
        repo.create_document("den", incoming(code_notation="BNV-TH"), None, None, CLERK)
    assert third.registration is not None and third.registration.number == 3


def test_a_correction_cannot_give_a_file_the_code_of_another(repo: Repository) -> None:
    first = repo.create_file(_file(), CLERK)
    second = repo.create_file(_file(file_notation="02.TCCB"), CLERK)
    with pytest.raises(Duplicate):
        repo.update_metadata(second.record_id, {"file_notation": "01.TCCB"}, expected_version=1, actor=CLERK)
    assert repo.get(second.record_id, actor=CLERK).metadata.file_code.endswith(".02.TCCB")
    assert first.metadata.file_code.endswith(".01.TCCB")


# --- r26: the same tricks one level deeper ------------------------------------------------

# Letters of scripts the a8 table did not list, each drawn like the Latin letter it replaces.
DEEPER_SENDER_SPELLINGS = {
    "Armenian օ (U+0585)": "UBND xã Hօà Bình",
    "Cherokee Ꮋ (U+13BB)": "UBND xã Ꮋòa Bình",
    "Lisu ꓴ (U+A4F4)": "ꓴBND xã Hòa Bình",
    "Coptic ⲟ (U+2C9F)": "UBND xã Hⲟà Bình",
}


@pytest.mark.parametrize(
    "spelling", list(DEEPER_SENDER_SPELLINGS.values()), ids=list(DEEPER_SENDER_SPELLINGS)
)
def test_a_sender_spelt_with_other_look_alike_scripts_is_a_duplicate_r26(
    spelling: str, repo: Repository
) -> None:
    """A8's key mapped Cyrillic and Greek look-alikes only: the sender "UBND xã Hòa Bình"
    written with an Armenian օ, a Cherokee Ꮋ, a Lisu ꓴ or a Coptic ⲟ registered the same
    văn bản đến a second time (số đến 02)."""
    first = repo.create_document("den", incoming(organ_name=SENDER), None, None, CLERK)
    with pytest.raises(Duplicate) as info:
        repo.create_document("den", incoming(organ_name=spelling), None, None, CLERK)
    assert info.value.details["existing_record_id"] == first.record_id
    assert [r.record_id for r in repo.register("den", 2026, actor=CLERK)] == [first.record_id]


@pytest.mark.parametrize(
    "notation",
    ["BṆV-VP", "BÑV-VP", "BNV-VṔ", "ḄNV-VP"],
    ids=["N-dot-below", "N-tilde", "P-acute", "B-dot-below"],
)
def test_a_ky_hieu_with_a_tone_mark_on_a_consonant_is_refused_r26(notation: str, repo: Repository) -> None:
    """``foreign_letters`` let through any ASCII letter carrying a Vietnamese tone mark: "Ṇ"
    (N with the dot of the nặng tone) or "Ñ" is no letter of the Vietnamese alphabet, prints
    like "N" in the sổ, and keyed another document: 1234/BNV-VP was registered twice."""
    repo.create_document("den", incoming(), None, None, CLERK)
    keys = _record_keys(repo)
    with pytest.raises(ValidationFailed) as info:
        repo.create_document("den", incoming(code_notation=notation), None, None, CLERK)
    assert [(e.field, e.code) for e in info.value.errors] == [("code_notation", "CODE_LOOKALIKE_CHARS")]
    assert "U+" in info.value.errors[0].message
    assert _record_keys(repo) == keys
    assert len(repo.register("den", 2026, actor=CLERK)) == 1


def test_every_vietnamese_letter_is_still_a_letter_of_a_ky_hieu_r26() -> None:
    """The rule names the Vietnamese alphabet: its 12 vowels with each tone, both cases, and đ."""
    vowels = "aăâeêioôơuưy"
    tones = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]
    letters = [unicodedata.normalize("NFC", v + t) for v in vowels for t in tones]
    text = "".join(letters) + "".join(x.upper() for x in letters) + "Đđ"
    assert len(set(text)) == 2 * 72 + 2
    assert foreign_letters(text) == []
    assert foreign_letters(unicodedata.normalize("NFD", text)) == []


def test_a_correction_gives_back_the_guard_of_the_earlier_formula_r26(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document registered before a8 as "UBND xã Hoà Bình" 1234/BNV-VP1 holds the guard of
    the earlier formula. Corrected to BNV-VP2, it gave back only the guard of the current key:
    the genuine 1234/BNV-VP1 from the same sender, registered after, was refused as a duplicate
    of the corrected record (whose ký hiệu is no longer BNV-VP1)."""
    sender = "UBND xã Hoà Bình"
    with monkeypatch.context() as old_kho:
        old_kho.setattr(records_module, "duplicate_key", records_module.legacy_duplicate_key)
        old = repo.create_document(
            "den", incoming(organ_name=sender, code_notation="BNV-VP1"), None, None, CLERK
        )
    repo.update_metadata(old.record_id, {"code_notation": "BNV-VP2"}, expected_version=1, actor=CLERK)
    genuine = repo.create_document(
        "den", incoming(organ_name=sender, code_notation="BNV-VP1"), None, None, CLERK
    )
    assert genuine.registration is not None and genuine.registration.number == 2
    with pytest.raises(Duplicate) as info:
        repo.create_document("den", incoming(organ_name=sender, code_notation="BNV-VP2"), None, None, CLERK)
    assert info.value.details["existing_record_id"] == old.record_id

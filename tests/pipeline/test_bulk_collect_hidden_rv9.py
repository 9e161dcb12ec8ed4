"""Review rv9 of u9's SOURCE_HIDDEN: ``collect_files`` lists a folder's hidden entries (a
``.git`` folder among them) only for a caller that collects them in ``hidden`` to refuse each
(:func:`ingest.bulk.import_paths`). u9 listed them for every caller: one that passes no
``hidden`` (the u6/u8 walk benchmarks, any later caller) got ``.DS_Store`` and the ``.git``
folder back as files to read, with nothing to tell them apart. Without ``hidden`` they are left
out, as before u9."""

from __future__ import annotations

from pathlib import Path

from ingest.bulk import collect_files


def test_a_walk_that_collects_no_hidden_entries_lists_none_of_them(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "con" / ".git" / "objects").mkdir(parents=True)
    (folder / "con" / "b.txt").write_text("b", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / ".git-folder-file").write_text("x", encoding="utf-8")
    (folder / "con" / ".git" / "objects" / "ab12").write_text("x", encoding="utf-8")

    assert collect_files([folder]) == [folder / "con" / "b.txt"]

    hidden: set[Path] = set()
    listed = collect_files([folder], hidden)
    assert hidden == {folder / ".DS_Store", folder / ".git-folder-file", folder / "con" / ".git"}
    assert sorted(listed) == sorted([folder / "con" / "b.txt", *hidden])

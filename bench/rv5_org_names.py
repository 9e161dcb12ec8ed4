"""NOTES-rv5: names outside u3's 8,572 that the 19 removed organisation heads would have caught.

    .venv/bin/python bench/rv5_org_names.py /tmp/rv5-pre-194122f

Loads ``ingest/signatures/rules.py`` from the given tree (before u3's 194122f) and from this
one, and compares ``classify_signer`` (a CN alone) and ``_names_an_organisation`` on generated
names: each of rv2's 23 heads and other organisation starts (Công ty, Hợp tác xã, Bệnh viện,
Trường, Chi cục, Trung tâm, Ban quản lý ...) followed by a surname as second word and a given
name or a place, plus people whose middle or given name is one of those words, in title, upper
and lower-with-capitals case. Prints the counts by kind and every name that differs; exits 1
if any does.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parents[1]

OLD_HEADS = (
    "cảng vụ", "thư viện", "tỉnh đoàn", "thành đoàn", "huyện đoàn", "quận đoàn", "công đoàn",
    "nghiệp đoàn", "chi đoàn", "sư đoàn", "lữ đoàn", "binh đoàn", "quân đoàn", "nông trường",
    "chi bộ", "chi hội", "hiệp hội", "tổng hội", "liên hội", "giáo hội", "cơ sở",
    "đoàn văn công", "đoàn văn nghệ",
)
OTHER_STARTS = (
    "công ty", "hợp tác xã", "bệnh viện", "trường", "trường tiểu học", "trường thcs", "chi cục",
    "trung tâm", "ban quản lý", "phòng khám", "nhà văn hóa", "lâm trường", "xí nghiệp",
    "doanh nghiệp tư nhân", "tập đoàn", "văn phòng công chứng", "quỹ", "hội", "đảng bộ",
    "trạm y tế", "đồn biên phòng", "cao đẳng", "học viện", "viện", "sở", "bộ", "cục",
)
TAILS = ("", "văn minh", "quảng ngãi", "thị hoa", "và cộng sự")


def load(root: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, root / "ingest/signatures/rules.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def cased(text: str) -> list[str]:
    return [text.title(), text.upper(), text[:1].upper() + text[1:]]


def names(surnames: frozenset[str]) -> set[str]:
    out: set[str] = set()
    for start in (*OLD_HEADS, *OTHER_STARTS):
        for surname in sorted(surnames):
            for tail in TAILS:
                out.update(cased(" ".join(p for p in (start, surname, tail) if p)))
        # a person whose middle and given names are the start's words ("Lê Cảng Vụ")
        for surname in sorted(surnames):
            out.update(cased(f"{surname} {start}"))
    return out


def main(before_root: Path) -> int:
    before, after = load(before_root, "rules_before"), load(HERE, "rules_after")
    every = sorted(names(before._SURNAMES | after._SURNAMES))
    kinds: Counter[str] = Counter()
    differ = 0
    for name in every:
        a = (before.classify_signer({"common_name": name}), before._names_an_organisation(name))
        b = (after.classify_signer({"common_name": name}), after._names_an_organisation(name))
        kinds[b[0].value] += 1
        if a != b:
            differ += 1
            print(f"DIFFERS {name!r}: {a[0].value}/{a[1]} -> {b[0].value}/{b[1]}")
    print(f"heads: {len(before._ORG_HEADS)} before, {len(after._ORG_HEADS)} after")
    print(f"names compared: {len(every)}; kinds after: {dict(kinds)}")
    print(f"names whose kind or organisation reading differs: {differ}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))

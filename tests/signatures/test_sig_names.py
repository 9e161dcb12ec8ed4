"""The memoised X.509 name preparation gives asn1crypto's own results (and errors)."""

from __future__ import annotations

import pytest
from asn1crypto import x509

from ingest.signatures import _names
from ingest.signatures.trust import TrustStore

VIETNAMESE_NAMES = [
    "CÔNG TY CỔ PHẦN CHỮ KÝ SỐ VI NA",
    "Ủy ban nhân dân tỉnh Quảng Ngãi",
    "Uỷ Ban  Nhân   Dân",  # old tone placement, repeated spaces
    "  Nguyễn Văn A  ",
    "Sở Tài chính\u00adHà Nội",  # soft hyphen is mapped out
    "CỤC CHỨNG THỰC SỐ VÀ BẢO MẬT THÔNG TIN",
]


def _values(trust: TrustStore) -> list[str]:
    values = []
    for cert in trust.anchors:
        for name in (cert.subject, cert.issuer):
            for rdn in name.chosen:
                for ntv in rdn:
                    value = ntv["value"].native
                    if isinstance(value, str):
                        values.append(value)
    return values


def test_memo_equals_asn1crypto_on_corpus_and_vietnamese_names(corpus_trust: TrustStore) -> None:
    _names.install()
    values = _values(corpus_trust) + VIETNAMESE_NAMES
    assert len(values) > 10
    for value in values:
        memoised = x509.NameTypeAndValue()._ldap_string_prep(value)
        assert memoised == _names.original_string_prep(value)
        assert x509.NameTypeAndValue()._ldap_string_prep(value) == memoised  # second call, from the memo


def test_memo_raises_like_asn1crypto_every_time() -> None:
    _names.install()
    private_use = "Tên\ue000riêng"
    with pytest.raises(ValueError):
        _names.original_string_prep(private_use)
    for _ in range(2):
        with pytest.raises(ValueError):
            x509.NameTypeAndValue()._ldap_string_prep(private_use)


def test_names_still_compare_by_rfc5280_rules() -> None:
    _names.install()
    a = x509.Name.build({"common_name": "Nguyễn  Văn A", "organization_name": "Sở Nội vụ"})
    b = x509.Name.build({"common_name": "nguyễn văn a", "organization_name": "SỞ NỘI VỤ"})
    c = x509.Name.build({"common_name": "Nguyễn Văn B", "organization_name": "Sở Nội vụ"})
    assert a == b
    assert a != c


def test_memoised_name_equality_agrees_with_asn1crypto_on_every_pair(corpus_trust: TrustStore) -> None:
    _names.install()
    names = [n for cert in corpus_trust.anchors for n in (cert.subject, cert.issuer)]
    names += [
        x509.Name.build({"common_name": "Nguyễn  Văn A", "organization_name": "Sở Nội vụ"}),
        x509.Name.build({"common_name": "nguyễn văn a", "organization_name": "SỞ NỘI VỤ"}),
        x509.Name.build({"common_name": "Nguyễn Văn A"}),
    ]
    reloaded = [x509.Name.load(n.dump()) for n in names]
    for left in names:
        for right in reloaded:
            assert (left == right) is _names.original_names_equal(left, right)
            assert (left != right) is not _names.original_names_equal(left, right)
    assert x509.Name.build({"common_name": "A"}) != "A"


def test_memoised_name_equality_ignores_the_general_name_tag() -> None:
    _names.install()
    name = x509.Name.build({"common_name": "Máy chủ cấp dấu thời gian", "country_name": "VN"})
    general = x509.GeneralName(name="directory_name", value=name)
    inside = x509.GeneralName.load(general.dump()).chosen
    assert inside.dump() != name.dump()  # the [4] tag
    assert inside == name and name == inside
    other = x509.Name.build({"common_name": "Máy chủ khác", "country_name": "VN"})
    assert inside != other


def test_memoised_hashable_agrees_with_asn1crypto(corpus_trust: TrustStore) -> None:
    _names.install()
    names = [n for cert in corpus_trust.anchors for n in (cert.subject, cert.issuer)]
    names.append(x509.Name.build({"common_name": "Nguyễn  Văn A", "organization_name": "Sở Nội vụ"}))
    for name in names:
        fresh = x509.Name.load(name.dump())
        assert fresh.hashable == _names.original_hashable(fresh)
        assert fresh.hashable == name.hashable  # second time, from the memo
    same = x509.Name.build({"common_name": "nguyễn văn a", "organization_name": "SỞ NỘI VỤ"})
    assert same.hashable == names[-1].hashable

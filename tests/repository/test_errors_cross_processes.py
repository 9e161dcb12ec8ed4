"""A Kho error raised in a worker process reaches the parent whole.

Bulk import and the signature pool run work in other processes, and ``multiprocessing`` sends an
exception back pickled. Exception's default pickling rebuilds it as ``cls(*args)``:
``ValidationFailed(errors)`` was rebuilt from its message string and raised ``AttributeError``
inside the pool's result thread, which died, and the parent waited for ever (seen when a
benchmark registered a văn bản đi with a refused date); every other error lost its code given at
raise time and its details on the way."""

from __future__ import annotations

import importlib
import multiprocessing
import pickle
import pkgutil

import pytest

from kho.errors import FieldError, KhoError, NotFound, ValidationFailed


def _all_error_classes() -> list[type[KhoError]]:
    for package in ("kho", "repository", "ingest", "search", "retention", "web"):
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, f"{package}."):
            importlib.import_module(module.name)
    seen: list[type[KhoError]] = []
    todo = [KhoError]
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.append(cls)
            todo.extend(cls.__subclasses__())
    return sorted(seen, key=lambda c: (c.__module__, c.__qualname__))


def _example(cls: type[KhoError]) -> KhoError:
    if issubclass(cls, ValidationFailed):
        return cls([FieldError("issued_date", "ISSUED_DATE_NOT_TODAY", "Ngày ban hành phải là hôm nay.")])
    return cls("Thông điệp thử", code="MA_RIENG", record_id="abc", count=3)


def test_every_error_pickles_with_its_code_message_and_details() -> None:
    classes = _all_error_classes()
    assert len(classes) > 50  # the walk found the product's errors, not only the base
    for cls in classes:
        error = _example(cls)
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is cls
        assert (back.code, back.message, back.details) == (error.code, error.message, error.details), cls
        assert str(back) == str(error)


def test_a_validation_error_keeps_its_fields_through_pickling() -> None:
    error = _example(ValidationFailed)
    back = pickle.loads(pickle.dumps(error))
    assert isinstance(back, ValidationFailed)
    assert back.errors == error.errors and back.code == "ISSUED_DATE_NOT_TODAY"


def _refuse(kind: str) -> None:
    if kind == "validation":
        raise _example(ValidationFailed)
    raise NotFound("Không tìm thấy hồ sơ.", code="FILE_NOT_FOUND", record_id="abc")


@pytest.mark.timeout(60)
def test_an_error_raised_in_a_pool_worker_reaches_the_parent() -> None:
    with multiprocessing.get_context("fork").Pool(1) as pool:
        with pytest.raises(ValidationFailed) as caught:
            pool.apply_async(_refuse, ("validation",)).get(timeout=30)
        assert caught.value.errors[0].field == "issued_date"
        with pytest.raises(NotFound) as missing:
            pool.apply_async(_refuse, ("not-found",)).get(timeout=30)
        assert missing.value.code == "FILE_NOT_FOUND" and missing.value.details == {"record_id": "abc"}

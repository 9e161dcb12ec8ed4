"""The system of record: records (văn bản đến/đi), hồ sơ, registers, originals, audit chain.

Everything lives in an :class:`~repository.storage.ObjectStore`; the search index is derived.
"""

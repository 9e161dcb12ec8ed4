"""Configuration from environment variables (one table: README "Configuration").

Every variable is optional; the defaults run Kho embedded on one machine with no services.
A bad value stops start-up with a Vietnamese message and the code ``CONFIG_INVALID``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from kho.digits import ascii_int
from kho.errors import ConfigError
from kho.files import is_utf8, printable

# name: (default, description) — the README table is generated from this.
VARIABLES: dict[str, tuple[str, str]] = {
    "KHO_DATA_DIR": ("./kho-data", "Folder for the embedded store, key store and index."),
    "KHO_STORE_URL": (
        "",
        "Object store: empty = `<KHO_DATA_DIR>/store`; `file:///path`; or `s3://bucket`.",
    ),
    "KHO_S3_ENDPOINT": ("", "S3 endpoint `host:port` (MinIO / any S3) for `s3://` URLs."),
    "KHO_S3_ACCESS_KEY": ("", "S3 access key."),
    "KHO_S3_SECRET_KEY": ("", "S3 secret key."),
    "KHO_S3_SECURE": ("false", "Use HTTPS for S3 (`true`/`false`)."),
    "KHO_S3_REGION": ("", "S3 region (optional)."),
    "KHO_S3_OBJECT_LOCK": ("false", "Create the bucket with Object Lock (WORM) enabled."),
    "KHO_KEYSTORE_URL": (
        "",
        "Where per-record keys live, apart from content: empty = `<KHO_DATA_DIR>/keys`.",
    ),
    "KHO_KEYSTORE_ACCESS_KEY": ("", "S3 access key of the key store (empty = `KHO_S3_ACCESS_KEY`)."),
    "KHO_KEYSTORE_SECRET_KEY": ("", "S3 secret key of the key store (empty = `KHO_S3_SECRET_KEY`)."),
    "KHO_MASTER_KEY": (
        "",
        "Base64 of a 16/24/32-byte key that wraps every record key and seals accounts, units and"
        " tokens (optional; without it a writer of the store can forge them).",
    ),
    "KHO_ALLOW_UNSEALED": (
        "false",
        "Upgrade only: with KHO_MASTER_KEY, read account and unit versions written before seals"
        " (`true`) until `kho account seal` has sealed them; then remove it (default: refused).",
    ),
    "KHO_FSYNC": ("true", "fsync every write of the local store."),
    "KHO_OVERLAP_SYNC_MS": (
        "0.5",
        "Local store: a record's fsyncs run on a thread pool, overlapped, while they average more"
        " than this many milliseconds (back in the writer's thread under half of it); 0–1000.",
    ),
    "KHO_OVERLAP_IDLE_CORES": (
        "0.5",
        "Local store: …and while at least this many CPU cores are idle besides the writer's"
        " (measured; back under half of it); 0 = do not look at idle cores; 0–1024.",
    ),
    "KHO_AUDIT_GROUP_COMMIT": (
        "true",
        "write the audit events of one act as one object (an audit batch): fewer writes per record;"
        " `false`: one object per event.",
    ),
    "KHO_AGENCY_ID": ("000.00.00.H99", "Mã định danh of the agency that runs Kho (QĐ 20/2020)."),
    "KHO_AGENCY_NAME": ("Cơ quan sử dụng Kho", "Name of that agency."),
    "KHO_MAX_FILE_MB": ("50", "Largest accepted original, in MB."),
    "KHO_AUDIT_RETENTION_DAYS": (
        "0",
        "Put each audit event under COMPLIANCE retention for this many days (0 = off).",
    ),
    "KHO_AUDIT_SIGNING_KEY": (
        "",
        "PEM file of the Ed25519 key that signs audit checkpoints, kept off the store"
        " (`kho audit keygen`).",
    ),
    "KHO_AUDIT_PUBLIC_KEY": (
        "", "PEM public key checkpoints are verified with (default: the signing key's)."
    ),
    "KHO_AUDIT_CHECKPOINT_DIR": (
        "",
        "Folder outside the store that keeps a copy of every checkpoint:"
        " empty = `<KHO_DATA_DIR>/audit-checkpoints`.",
    ),
    "KHO_BACKUP_URLS": (
        "",
        "Where `kho backup` copies the store: comma-separated `file:///path` (movable media) and"
        " `s3://bucket` (a second bucket).",
    ),
    "KHO_BACKUP_KEYS_URL": ("", "Where `kho backup` copies the key store (apart from the store's copies)."),
    "KHO_KEY_BACKUP_SHRED_DAYS": (
        "30",
        "Days after a destruction when the record's key is also removed from every key-store backup.",
    ),
    "KHO_CAPACITY_WARN_PERCENT": (
        "80",
        "`kho status` warns (and audits an alert) when a store is this full.",
    ),
    "KHO_CAPACITY_CRITICAL_PERCENT": ("95", "…and calls it critical from this level."),
    "KHO_SMTP_HOST": ("", "SMTP server for handling notifications by e-mail; empty = no e-mail (web only)."),
    "KHO_SMTP_PORT": ("25", "SMTP port."),
    "KHO_SMTP_FROM": ("kho@localhost", "Sender address of notification e-mails."),
    "KHO_SMTP_USER": ("", "SMTP login (with KHO_SMTP_PASSWORD); empty = no login."),
    "KHO_SMTP_PASSWORD": ("", "SMTP password."),
    "KHO_SMTP_STARTTLS": ("false", "Upgrade the SMTP connection with STARTTLS."),
    "KHO_HOLIDAYS_FILE": (
        "",
        "JSON list of public holidays for deadlines; empty = the one shipped with Kho.",
    ),
    "KHO_BASE_URL": ("", "Public address of the web pages, for links in e-mails."),
    "KHO_BACKUP_S3_ENDPOINT": (
        "",
        "S3 server of the `s3://` backup destinations (a second server; empty = the store's).",
    ),
    "KHO_BACKUP_S3_ACCESS_KEY": ("", "The backup destination's own S3 credential (empty = the store's)."),
    "KHO_BACKUP_S3_SECRET_KEY": ("", "…and its secret."),
    "KHO_BACKUP_LOCK_DAYS": (
        "0",
        "Write-once store backups: `s3://` backup buckets are made with object lock and every blob"
        " and manifest is kept under COMPLIANCE retention this many days (0 = off).",
    ),
    "KHO_BACKUP_SCHEDULE": (
        "02:00",
        "When Celery beat runs the backup: `HH:MM` daily (Vietnam time), `<N>s|m|h` every N, `off`.",
    ),
    "KHO_FIXITY_SCHEDULE": ("03:00", "When Celery beat runs the fixity audit (same forms)."),
    "KHO_FIXITY_PERIOD_DAYS": (
        "30",
        "Every original is re-hashed once in this many scheduled fixity runs (a rolling share per run).",
    ),
    "KHO_CAPACITY_SCHEDULE": ("1h", "When Celery beat checks capacity and raises alert events."),
    "KHO_HANDLING_SCHEDULE": (
        "06:30",
        "When Celery beat flags overdue and due-soon handling tasks and notifies (same forms).",
    ),
    "KHO_DUE_ALERT_SCHEDULE": (
        "07:00",
        "When Celery beat sends the nộp lưu alerts (30 days before the due date; same forms).",
    ),
    "KHO_TSA_URL": (
        "",
        "RFC 3161 time-stamping authority that stamps each audit checkpoint (empty = none).",
    ),
    "KHO_ELASTICSEARCH_URL": ("", "Elasticsearch URL; empty = the embedded index."),
    "KHO_ELASTICSEARCH_INDEX": ("kho-records", "Elasticsearch alias name."),
    "KHO_ELASTICSEARCH_SHARDS": ("1", "Primary shards of each new Elasticsearch index."),
    "KHO_ELASTICSEARCH_REPLICAS": ("1", "Replicas of each shard (0 on a single node)."),
    "KHO_BROKER_URL": ("", "Celery broker (`redis://...`); empty = tasks run in-process."),
    "KHO_TIKA_URL": ("", "Apache Tika server URL; empty = native text extraction."),
    "KHO_OCR_LANG": ("vie", "Tesseract languages for OCR."),
    "KHO_TRUST_DIR": (
        "",
        "Folder of trusted root/intermediate certificates (PEM/DER); empty = `<KHO_DATA_DIR>/trust`"
        " once `kho trust add` made it, else the shipped Vietnamese list (ingest/signatures/anchors).",
    ),
    "KHO_ALLOW_FETCHING": ("false", "Let signature validation fetch OCSP/CRL over the network."),
    "KHO_SIGNATURE_SHA1_SEALS_UNTIL": (
        "",
        "Cut-off date (YYYY-MM-DD) before which SHA-1 is still accepted in organisation seals whose time"
        " is proven (trusted timestamp, else the validation time), as DSS's cryptographic constraints;"
        " empty = SHA-1 is never accepted.",
    ),
    "KHO_TOKEN": ("", "Access token the CLI acts with (else the one `kho login` saved)."),
    "KHO_TOKEN_FILE": ("", "Where `kho login` keeps tokens (default `~/.config/kho/tokens.json`)."),
    "KHO_PASSWORD_MEMORY_KB": ("65536", "argon2id memory cost of password hashes, in KiB."),
    "KHO_PASSWORD_TIME_COST": ("3", "argon2id passes over that memory."),
    "KHO_LOGIN_MAX_FAILURES": ("5", "Wrong passwords in a row that lock an account."),
    "KHO_LOGIN_LOCK_HOURS": (
        "24",
        "Hours after which a lock for wrong passwords ends by itself (QCVN 12:2026/BCA 3.6.2.1.9.3:"
        " 12 to 720); a quản trị may unlock earlier, and a lock a quản trị chose never ends by itself.",
    ),
    "KHO_SESSION_IDLE_MINUTES": (
        "30",
        "A web page session unused this many minutes ends (the person logs in again).",
    ),
    "KHO_TOKEN_IDLE_MINUTES": (
        "30",
        "An API token (`POST /api/login`, `kho login`, personal tokens) unused this many minutes"
        " ends; raise it for scripts that run less often.",
    ),
    # Read by web/pages/__init__.py (the web pages' sessions).
    "KHO_SESSION_SECRET": (
        "",
        "Signs the web pages' session cookies; the same in every web worker (empty: per process)."
        " At least 32 characters, 10 of them different, no piece of 8 twice (else CONFIG_INVALID);"
        " make one with `python3 -c \"import secrets; print(secrets.token_hex(32))\"`.",
    ),
    "KHO_COOKIE_SECURE": ("true", "Session cookies only over HTTPS (`false` only for http on loopback)."),
    "KHO_TRUSTED_PROXIES": (
        "",
        "Reverse proxies (addresses or networks, comma-separated) whose `X-Forwarded-For` names the"
        " client: the login limit and the audit log then count the person's address, not the"
        " proxy's. Empty = the header is never read.",
    ),
    "KHO_TRUSTED_PROXIES_WIDE": (
        "false",
        "`true` to accept in KHO_TRUSTED_PROXIES a network wider than /16 (IPv4) or /48 (IPv6),"
        " refused at start otherwise (TRUSTED_PROXIES_TOO_WIDE): every client inside it may name"
        " its own address.",
    ),
    # Read by ingest/signatures/_pool.py and _fastpath.py (in the verification workers).
    "KHO_SIGNATURE_FAST_PATH": (
        "1",
        "Fast signature reader, name and certificate memos and collector pause in the verification"
        " workers (`0` = stock pyHanko; `all` = every part; or a list of `reader,names,certs,gc`).",
    ),
    "KHO_SIGNATURE_WORKERS": ("1", "Worker processes that verify signatures (shared by pipeline and CLI)."),
    "KHO_SIGNATURE_TIMEOUT": ("120", "Seconds one document's signature verification may take."),
    "KHO_SIP_TIME_LIMIT": (
        "3600",
        "Seconds the check of one imported package (extraction, checksums, E-ARK validator, every"
        " PDF's signatures) may take; past it the package is refused (`SIP_TIME_LIMIT`), nothing recorded.",
    ),
    "KHO_SIGNATURE_MEMORY_MB": ("2048", "Address-space limit of a verification worker, in MB."),
    "KHO_SIGNATURE_READY_TIMEOUT": (
        "10",
        "Seconds a verification worker may take to be ready for its next document (its"
        " housekeeping after a reply); past it the worker is replaced and the document sent to"
        " the new one.",
    ),
    # Read by ingest/text/box.py (the bounded pdfium workers of this process).
    "KHO_TEXT_WORKERS": (
        "1",
        "Worker processes (per Kho process) that read a PDF's text with pdfium, each bounded in"
        " memory and time; a threaded web server may set more (1–64).",
    ),
    "KHO_VIEW_WORKERS": (
        "1",
        "Worker processes (per Kho process) that render the viewer's page images with pdfium,"
        " each bounded in memory and time; a threaded web server may set more (1–64).",
    ),
    # Read by kho/verify_agent.py (the `kho verify` program).
    "KHO_VERIFY_AGENT": ("1", "`kho verify` hands its files to the user's warm verification agent "
                              "and starts one (`0`: always in-process, no agent)."),
    "KHO_VERIFY_AGENT_PRESTART": ("1", "`kho login` and `kho whoami` start the verification "
                                       "agent after their output, so that the session's first "
                                       "`kho verify` finds it warm (`0`: only a first `kho "
                                       "verify` starts it)."),
    "KHO_VERIFY_AGENT_DIR": ("", "Private folder (0700) of the agent's socket (default "
                                 "`$XDG_RUNTIME_DIR/kho`, else `/tmp/kho-<uid>`)."),
    "KHO_VERIFY_AGENT_IDLE": ("300", "Seconds the verification agent waits for a command before "
                                     "it exits."),
    # Read by ingest (ingest/text/settings.py, ingest/pipeline.py, ingest/celery_app.py).
    "KHO_OCR": ("1", "OCR image-only pages (`0` turns OCR off)."),
    "KHO_OCR_DPI": ("300", "Resolution pages are rendered at for OCR."),
    "KHO_OCR_TIMEOUT": ("120", "Seconds one page may take in Tesseract."),
    "KHO_OCR_MEMORY_MB": ("2048", "Address space (MiB) one Tesseract process may use; past it the "
                                  "page fails FILE_TOO_COMPLEX."),
    "KHO_OCR_JOBS": ("", "Pages of one document OCR'd at once (default: the cores)."),
    "KHO_OCR_SLOTS": ("", "Tesseract processes at once on the machine, all workers together "
                          "(default: the cores; 0: no limit)."),
    "KHO_MAX_PAGES": ("5000", "Largest page count accepted."),
    "KHO_MAX_OCR_PAGES": ("1000", "Most pages OCR'd in one document."),
    "KHO_INGEST_RETRIES": ("4", "Attempts of a pipeline step that failed for a passing reason."),
    "KHO_INGEST_RETRY_DELAY": ("2", "First retry delay in seconds (doubles each time)."),
    "KHO_INGEST_QUEUE": ("kho-ingest", "Celery queue of the ingest tasks."),
    "KHO_TASK_VISIBILITY": ("", "Seconds before an unacknowledged task is delivered again (at "
                                "least the largest of `KHO_TASK_TIME_LIMIT`, `KHO_BACKUP_TIME_LIMIT`, "
                                "`KHO_FIXITY_TIME_LIMIT`, `KHO_PERIODIC_TIME_LIMIT` + 300; default: "
                                "exactly that)."),
    "KHO_TASK_TIME_LIMIT": ("3000", "Seconds an ingest task may run before Celery kills its "
                                    "process; the job ends `lỗi` with `INGEST_TIMEOUT`."),
    "KHO_TASK_SOFT_TIME_LIMIT": ("2880", "Seconds after which a running ingest task is stopped "
                                         "(below `KHO_TASK_TIME_LIMIT`); the job ends `lỗi` with "
                                         "`INGEST_TIMEOUT`."),
    "KHO_BACKUP_TIME_LIMIT": ("10800", "Seconds a scheduled backup may run before Celery kills its "
                                       "process; the run is recorded `BACKUP_TIMEOUT`."),
    "KHO_BACKUP_SOFT_TIME_LIMIT": ("10500", "Seconds after which a scheduled backup is stopped (below "
                                            "`KHO_BACKUP_TIME_LIMIT`); recorded `BACKUP_TIMEOUT`, the "
                                            "unfinished copy has no manifest."),
    "KHO_FIXITY_TIME_LIMIT": ("10800", "Seconds a scheduled fixity audit may run before Celery kills "
                                       "its process; the run is recorded `FIXITY_TIMEOUT`."),
    "KHO_FIXITY_SOFT_TIME_LIMIT": ("10500", "Seconds after which a scheduled fixity audit is stopped "
                                            "(below `KHO_FIXITY_TIME_LIMIT`); recorded `FIXITY_TIMEOUT`."),
    "KHO_PERIODIC_TIME_LIMIT": ("3600", "Seconds any other Celery task (capacity check, nộp lưu "
                                        "alerts, handling deadlines, the timed-out recorders) may "
                                        "run before Celery kills its process; recorded "
                                        "`<JOB>_TIMEOUT`."),
    "KHO_PERIODIC_SOFT_TIME_LIMIT": ("3300", "Seconds after which such a task is stopped (below "
                                             "`KHO_PERIODIC_TIME_LIMIT`); recorded `<JOB>_TIMEOUT`, "
                                             "the next run does what it left."),
}

TASK_VISIBILITY_MARGIN = 300
"""Seconds ``KHO_TASK_VISIBILITY`` must exceed the largest task hard limit (ingest, backup,
fixity: one broker, one visibility timeout for every task) by: a task is delivered
again when the visibility timeout passes unacknowledged, so a job still running then would be run
twice and its first run counted as lost. The worker fetches a task only when a pool process is
free (``worker_disable_prefetch``), so a task runs at most the time limit after delivery, plus a
retry's countdown (at most 60 s) and the fetch."""


FAST_PATH_PARTS = ("reader", "names", "certs", "gc")
"""The parts of the signature fast path (:mod:`ingest.signatures._fastpath`), each switchable
for measuring what it adds (``bench/bench_fastpath_parts.py``): the caching reader, the name
memo, the certificate memo and the collector pause."""
DEFAULT_FAST_PATH_PARTS = ("reader", "names", "certs", "gc")
"""The parts that pay, as measured by ``bench/bench_fastpath_parts.py`` on the nine real
multi-signature documents (1 December 2026, load 0.9, CPU per document against every part on):
without the reader 13.8x, without the collector pause 1.26x, without the name memo 1.03x,
without the certificate memo 0.99x. The two memos replace functions of asn1crypto and pyHanko
process-wide; for 3 % they were not worth it, so at first they were off unless asked for (``all``).
Re-measured in the worker pool as ``bench/eval_signatures.py`` verifies (each document once, in
corpus order, worker CPU; 6 interleaved rounds at load 5-9, bench/NOTES-issue9-speed.md): the
name memo saves ~3 % of the mean (158 against 163 ms; ~7 % on the small documents, nothing on
``vn-gov__03``), the certificate memo costs the first document more than it saves.
Round 5b (same evening, after the digests and the strict reading's scans got cheaper, so the
name preparation was a larger share): each document once in corpus order, fresh process, 5
interleaved rounds, minimum per document: the eight smaller documents 62.3 ms without the name
memo, 51.9 ms with it (lower on 8 of 8), the median of the round means 171 against 162 ms; so
the name memo joined the default (it runs only in the workers, and its answers are asn1crypto's:
``tests/signatures/test_sig_names.py``). The certificate memo stayed off then.
Round 6c (with the reader and the names memo cheaper again): each document once in corpus order,
fresh process, 4 interleaved rounds at load 3.7-4.5, minimum per document: the eight smaller
documents 52.2 ms without the certificate memo, 44.6 ms with it (lower on 7 of 8), ``vn-gov__03``
as the first document 779 against 739 ms (no first-document loss left), the median of the round
means 143 against 131 ms; so the certificate memo joined the default too (it keys on the whole
DER encoding, asn1crypto caches only what that encoding determines, and a certificate that
differs in one byte from one seen before is judged on its own:
``tests/signatures/test_sig_certs.py``)."""


def fast_path_parts(value: str) -> frozenset[str]:
    """The parts a ``KHO_SIGNATURE_FAST_PATH`` value asks for: ``1`` the parts that pay
    (:data:`DEFAULT_FAST_PATH_PARTS`), ``all`` every part, ``0`` none, or a comma-separated list
    of :data:`FAST_PATH_PARTS`; :class:`ConfigError` for anything else."""
    value = value.strip().lower()
    if value in ("0", "false", "no", "off"):
        return frozenset()
    if value in ("", "1", "true", "yes", "on"):
        return frozenset(DEFAULT_FAST_PATH_PARTS)
    if value == "all":
        return frozenset(FAST_PATH_PARTS)
    asked = {part.strip() for part in value.split(",") if part.strip()}
    unknown = sorted(asked - set(FAST_PATH_PARTS))
    if unknown:
        raise ConfigError(
            f"KHO_SIGNATURE_FAST_PATH=“{value}” không hợp lệ: dùng 1, 0, all hoặc danh sách các phần"
            f" {', '.join(FAST_PATH_PARTS)} (không có phần “{', '.join(unknown)}”).",
            variable="KHO_SIGNATURE_FAST_PATH",
        )
    return frozenset(asked)


def _shown(value: str) -> str:
    """A value for a message: its bytes that are not UTF-8 as ``\\xNN``, cut at 200."""
    return printable(value)[:200]


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(
        f"Biến cấu hình {name}=“{value}” không hợp lệ: dùng true hoặc false.", variable=name
    )


def _networks(name: str, value: str) -> tuple[str, ...]:
    """IP addresses or networks separated by commas, each written as ``ipaddress`` does."""
    out: list[str] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            out.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError as exc:
            raise ConfigError(
                f"Biến cấu hình {name}=“{value}” không hợp lệ: “{item}” không phải địa chỉ IP hoặc"
                " dải mạng (ví dụ 10.0.0.5, 10.0.0.0/24).",
                variable=name,
            ) from exc
    return tuple(out)


PROXY_WIDEST_IPV4 = 16
"""The widest IPv4 network ``KHO_TRUSTED_PROXIES`` takes without ``KHO_TRUSTED_PROXIES_WIDE``."""
PROXY_WIDEST_IPV6 = 48
"""The same for IPv6 (an IPv4-mapped network, ``::ffff:0:0/96`` and inside it, is judged as IPv4)."""
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")


def _proxies(name: str, value: str, wide: bool) -> tuple[str, ...]:
    """:func:`_networks` for the reverse proxies (review a25): every address inside a listed
    network may send ``X-Forwarded-For`` and be believed, so a list that trusts everyone
    (``0.0.0.0/0``, ``::/0``) or a very wide range (a /8, the IPv4-mapped range) lets any client
    choose the address the login limit, the known networks and the audit log see. Refused at
    start (``TRUSTED_PROXIES_TOO_WIDE``, naming the variable) unless ``wide`` says the operator
    means it."""
    listed = _networks(name, value)
    if wide:
        return listed
    for item in listed:
        network = ipaddress.ip_network(item)
        if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_MAPPED):
            prefix, widest = network.prefixlen - 96, PROXY_WIDEST_IPV4
        elif isinstance(network, ipaddress.IPv6Network) and network.supernet_of(_MAPPED):
            prefix, widest = 0, PROXY_WIDEST_IPV6  # holds every IPv4-mapped address
        elif isinstance(network, ipaddress.IPv6Network):
            prefix, widest = network.prefixlen, PROXY_WIDEST_IPV6
        else:
            prefix, widest = network.prefixlen, PROXY_WIDEST_IPV4
        if prefix < widest:
            raise ConfigError(
                f"Biến cấu hình {name}=“{_shown(value)}” không an toàn: dải “{item}” quá rộng (rộng hơn"
                f" /{widest}) — mọi máy trong dải đó được tin khi tự khai địa chỉ (X-Forwarded-For), nên"
                " có thể né giới hạn đăng nhập và ghi sai địa chỉ vào nhật ký. Chỉ ghi địa chỉ của các"
                " máy chủ proxy; nếu thật sự cần dải này, đặt KHO_TRUSTED_PROXIES_WIDE=true.",
                code="TRUSTED_PROXIES_TOO_WIDE",
                variable=name,
                network=item,
            )
    return listed


def _plain_number(value: str) -> bool:
    """Digits as a person types them in a config file: ASCII, no ``_`` (Python's ``int`` and
    ``float`` also take ``"1_024"`` and fullwidth or other scripts' digits, ``"１０２４"``)."""
    return value.isascii() and "_" not in value


def _int(name: str, value: str, low: int, high: int) -> int:
    """``value`` in ASCII digits (:func:`kho.digits.ascii_int`, the rule of the forms and the
    command line: no ``+``, ``_`` or other scripts' digits), between ``low`` and ``high`` (all
    of them 0 or more), else a :class:`ConfigError` naming the variable."""
    parsed = ascii_int(value)
    number = low - 1 if parsed is None else parsed
    if not low <= number <= high:
        raise ConfigError(
            f"Biến cấu hình {name}=“{value}” không hợp lệ: cần số nguyên từ {low} đến {high}.",
            variable=name,
        )
    return number


def _lock_hours(value: str) -> int:
    """``KHO_LOGIN_LOCK_HOURS`` within what QCVN 12:2026/BCA 3.6.2.1.9.3 allows."""
    from repository.passwords import MAX_LOCK_HOURS, MIN_LOCK_HOURS

    try:
        return _int("KHO_LOGIN_LOCK_HOURS", value, MIN_LOCK_HOURS, MAX_LOCK_HOURS)
    except ConfigError:
        raise ConfigError(
            f"Biến cấu hình KHO_LOGIN_LOCK_HOURS=“{value}” không hợp lệ: thời gian tự động mở khóa"
            f" tài khoản bị khóa do nhập sai mật khẩu phải từ {MIN_LOCK_HOURS} giờ đến {MAX_LOCK_HOURS}"
            " giờ (30 ngày), theo QCVN 12:2026/BCA mục 3.6.2.1.9.3.",
            variable="KHO_LOGIN_LOCK_HOURS",
        ) from None


def _seconds(name: str, value: str, low: float, high: float) -> float:
    return _number(name, value, low, high, "giây")


def _number(name: str, value: str, low: float, high: float, unit: str) -> float:
    """A decimal number of ``unit`` (named in the refusal) from ``low`` to ``high``."""
    try:
        number = float(value) if _plain_number(value) else math.nan
    except ValueError:
        number = math.nan
    if not low <= number <= high:  # NaN is refused too
        raise ConfigError(
            f"Biến cấu hình {name}=“{value}” không hợp lệ: cần số {unit} từ {low:g} đến {high:g}.",
            variable=name,
        )
    return number


SESSION_SECRET_MIN_CHARS = 32
"""``KHO_SESSION_SECRET``: at least this many characters (``secrets.token_hex(32)`` gives 64)."""
SESSION_SECRET_MIN_DISTINCT = 10
"""... of which at least this many different ones (a hex string of 32 has about 14)."""
SESSION_SECRET_PIECE = 8
"""... and no piece of this many characters twice (review rv12: a20 refused only a value that
is one piece repeated whole, so ``"deployment-" + "a" * 32`` or ``"0123456789" * 3 + "01"``
passed)."""


def session_secret(value: str) -> str:
    """``KHO_SESSION_SECRET`` if it is strong enough to sign the pages' session cookies, else
    :class:`ConfigError` (review a20). Whoever knows it can forge any session's cookie content
    (the ``change_for`` of a password change, the CSRF and one-time form values), so a short,
    low-variety or repeating value (``changeme…``, ``aaaa…``, ``abcdabcd…``, a word + ``aaaa…``:
    any piece of :data:`SESSION_SECRET_PIECE` characters twice) is refused at start
    rather than taken. Empty means none: each process draws its own (sessions then last as long
    as the process, which is safe), as before. Surrounding spaces are not part of it."""
    secret = value.strip()
    if not secret:
        return ""
    # A piece of SESSION_SECRET_PIECE characters that occurs twice: a repeated word or pattern
    # ("changeme-changeme-…", "0123456789" * 3 + "01", a name + "a" * 32), which a random value
    # almost never has (64 hex: about 4 in 10 million).
    pieces = [secret[i : i + SESSION_SECRET_PIECE] for i in range(len(secret) - SESSION_SECRET_PIECE + 1)]
    repeated = len(set(pieces)) < len(pieces)
    if len(secret) < SESSION_SECRET_MIN_CHARS or len(set(secret)) < SESSION_SECRET_MIN_DISTINCT or repeated:
        raise ConfigError(
            f"Biến cấu hình KHO_SESSION_SECRET không đủ mạnh (dài {len(secret)} ký tự, {len(set(secret))}"
            " ký tự khác nhau): khóa ký phiên làm việc phải ngẫu nhiên, dài ít nhất"
            f" {SESSION_SECRET_MIN_CHARS} ký tự, có ít nhất {SESSION_SECRET_MIN_DISTINCT} ký tự khác"
            " nhau và không lặp lại một đoạn. Tạo khóa tốt bằng lệnh: python3 -c \"import secrets;"
            " print(secrets.token_hex(32))\" rồi đặt cùng một giá trị cho mọi tiến trình web; để trống"
            " thì mỗi tiến trình tự tạo khóa riêng (phiên kết thúc khi tiến trình khởi động lại).",
            variable="KHO_SESSION_SECRET",
        )
    return secret


OCR_MEMORY_MIN_MB = 128
"""The least ``KHO_OCR_MEMORY_MB``: Tesseract with the Vietnamese model maps about 80 MiB before
it reads a page (at 50 MiB it does not start), an A4 page at 300 dpi runs in 200."""


def _read(env: Mapping[str, str], name: str) -> str:
    """A variable as set, or its :data:`VARIABLES` default when unset."""
    return env.get(name, VARIABLES.get(name, ("",))[0]).strip()


@dataclass(frozen=True)
class ProcessSettings:
    """The settings read by the worker side of Kho from the environment (text extraction, the
    pipeline's retries, Celery, the verification agent, the pages' cookies), parsed in one place
    (:func:`process_settings`) so that :meth:`Settings.from_env` refuses a bad one at start-up
    with its name, instead of each reader's ``int()`` giving a traceback (``KHO_TASK_VISIBILITY``)
    or one unnamed message (``KHO_OCR_*``), or taking ``KHO_OCR_DPI=-1``, ``KHO_MAX_PAGES=0`` or
    ``KHO_OCR_TIMEOUT=NaN`` as they were."""

    ocr_enabled: bool
    ocr_dpi: int
    ocr_timeout: float
    ocr_memory_mb: int
    """Address space one Tesseract process may use (``KHO_OCR_MEMORY_MB``, review a21)."""
    ocr_jobs: int | None
    """None: the cores."""
    ocr_slots: int | None
    """None: the cores; 0: no limit."""
    max_pages: int
    max_ocr_pages: int
    max_text_chars: int
    ingest_retries: int
    ingest_retry_delay: float
    task_visibility: int
    task_time_limit: int
    """Seconds before Celery kills the process running a task (hard limit)."""
    task_soft_time_limit: int
    """Seconds before a running task is interrupted (``SoftTimeLimitExceeded``), its job ended."""
    backup_time_limit: int
    """Hard limit of the scheduled backup task (``kho.retention.backup``)."""
    backup_soft_time_limit: int
    """Soft limit of the scheduled backup task: the run is recorded ``BACKUP_TIMEOUT``."""
    fixity_time_limit: int
    """Hard limit of the scheduled fixity task (``kho.retention.fixity``)."""
    fixity_soft_time_limit: int
    """Soft limit of the scheduled fixity task: the run is recorded ``FIXITY_TIMEOUT``."""
    periodic_time_limit: int
    """Hard limit of every other task (capacity, due alerts, handling deadlines, …): Celery's
    default ``task_time_limit``, so no task runs without one."""
    periodic_soft_time_limit: int
    """Soft limit of every other task: the run is recorded ``<JOB>_TIMEOUT``."""
    verify_agent_idle: float
    cookie_secure: bool
    session_secret: str
    """``KHO_SESSION_SECRET`` as checked by :func:`session_secret` (empty: none configured)."""


def _flag(env: Mapping[str, str], name: str) -> bool:
    """A switch whose empty value means its default (``KHO_OCR``, ``KHO_COOKIE_SECURE``)."""
    value = _read(env, name)
    return _bool(name, value or VARIABLES[name][0])


def _optional_int(env: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    value = _read(env, name)
    return _int(name, value, low, high) if value else None


def _time_limits(env: Mapping[str, str], prefix: str) -> tuple[int, int]:
    """``<prefix>_TIME_LIMIT`` (hard) and ``<prefix>_SOFT_TIME_LIMIT`` of one kind of task, the
    soft one below the hard one."""
    hard_name, soft_name = f"{prefix}_TIME_LIMIT", f"{prefix}_SOFT_TIME_LIMIT"
    hard = _int(hard_name, _read(env, hard_name), 2, 7 * 86_400)
    soft = _int(soft_name, _read(env, soft_name), 1, 7 * 86_400)
    if soft >= hard:
        raise ConfigError(
            f"Biến cấu hình {soft_name}={soft} không hợp lệ: phải nhỏ hơn "
            f"{hard_name}={hard} (giới hạn mềm dừng tác vụ trước khi tiến trình bị dừng).",
            variable=soft_name,
        )
    return hard, soft


def process_settings(env: Mapping[str, str] | None = None) -> ProcessSettings:
    """:class:`ProcessSettings` from ``env`` (default: the process environment), or
    :class:`ConfigError` naming the first bad variable."""
    env = os.environ if env is None else env
    hard, soft = _time_limits(env, "KHO_TASK")
    backup_hard, backup_soft = _time_limits(env, "KHO_BACKUP")
    fixity_hard, fixity_soft = _time_limits(env, "KHO_FIXITY")
    periodic_hard, periodic_soft = _time_limits(env, "KHO_PERIODIC")
    largest, largest_name = max(
        (hard, "KHO_TASK_TIME_LIMIT"), (backup_hard, "KHO_BACKUP_TIME_LIMIT"),
        (fixity_hard, "KHO_FIXITY_TIME_LIMIT"), (periodic_hard, "KHO_PERIODIC_TIME_LIMIT"),
    )
    visibility_text = _read(env, "KHO_TASK_VISIBILITY") or str(largest + TASK_VISIBILITY_MARGIN)
    visibility = _int("KHO_TASK_VISIBILITY", visibility_text, 60, 8 * 86_400)
    if visibility < largest + TASK_VISIBILITY_MARGIN:
        raise ConfigError(
            f"Biến cấu hình KHO_TASK_VISIBILITY={visibility} không hợp lệ: phải từ "
            f"{largest_name} + {TASK_VISIBILITY_MARGIN} = {largest + TASK_VISIBILITY_MARGIN} "
            "giây trở lên, nếu không một tác vụ còn đang chạy sẽ bị giao lại và chạy hai lần.",
            variable="KHO_TASK_VISIBILITY",
        )
    return ProcessSettings(
        ocr_enabled=_flag(env, "KHO_OCR"),
        ocr_dpi=_int("KHO_OCR_DPI", _read(env, "KHO_OCR_DPI"), 50, 1200),
        ocr_timeout=_seconds("KHO_OCR_TIMEOUT", _read(env, "KHO_OCR_TIMEOUT"), 0.001, 86_400),
        ocr_memory_mb=_int(
            "KHO_OCR_MEMORY_MB", _read(env, "KHO_OCR_MEMORY_MB"), OCR_MEMORY_MIN_MB, 1_048_576
        ),
        ocr_jobs=_optional_int(env, "KHO_OCR_JOBS", 1, 1024),
        ocr_slots=_optional_int(env, "KHO_OCR_SLOTS", 0, 1024),
        max_pages=_int("KHO_MAX_PAGES", _read(env, "KHO_MAX_PAGES"), 1, 1_000_000),
        max_ocr_pages=_int("KHO_MAX_OCR_PAGES", _read(env, "KHO_MAX_OCR_PAGES"), 0, 1_000_000),
        max_text_chars=_int(
            "KHO_MAX_TEXT_CHARS", env.get("KHO_MAX_TEXT_CHARS", "10000000").strip(), 1, 2_000_000_000
        ),
        ingest_retries=_int("KHO_INGEST_RETRIES", _read(env, "KHO_INGEST_RETRIES"), 0, 100),
        ingest_retry_delay=_seconds(
            "KHO_INGEST_RETRY_DELAY", _read(env, "KHO_INGEST_RETRY_DELAY"), 0, 3_600
        ),
        task_visibility=visibility,
        task_time_limit=hard,
        task_soft_time_limit=soft,
        backup_time_limit=backup_hard,
        backup_soft_time_limit=backup_soft,
        fixity_time_limit=fixity_hard,
        fixity_soft_time_limit=fixity_soft,
        periodic_time_limit=periodic_hard,
        periodic_soft_time_limit=periodic_soft,
        verify_agent_idle=_seconds(
            "KHO_VERIFY_AGENT_IDLE", _read(env, "KHO_VERIFY_AGENT_IDLE"), 0.1, 86_400
        ),
        cookie_secure=_flag(env, "KHO_COOKIE_SECURE"),
        session_secret=session_secret(env.get("KHO_SESSION_SECRET", "")),
    )


def parse_schedule(value: str) -> tuple[str, int, int] | None:
    """A schedule setting (pure): ``HH:MM`` → ``("daily", hour, minute)``; ``<N>s|m|h`` →
    ``("every", seconds, 0)``; ``off``/empty → None. ``ValueError`` for anything else."""
    text = value.strip().lower()
    if text in ("", "off", "0"):
        return None
    if ":" in text:
        hour, _, minute = text.partition(":")
        hours, minutes = ascii_int(hour), ascii_int(minute)
        if hours is not None and minutes is not None and hours < 24 and minutes < 60 and len(minute) == 2:
            return ("daily", hours, minutes)
        raise ValueError(text)
    units = {"s": 1, "m": 60, "h": 3600}
    count = ascii_int(text[:-1]) if len(text) > 1 and text[-1] in units else None
    if count:
        return ("every", count * units[text[-1]], 0)
    raise ValueError(text)


def _schedule(name: str, value: str) -> str:
    try:
        parse_schedule(value)
    except ValueError as exc:
        raise ConfigError(
            f"Biến cấu hình {name}=“{value}” không hợp lệ: dùng HH:MM (hằng ngày), <số>s|m|h (lặp lại)"
            " hoặc off.",
            variable=name,
        ) from exc
    return value.strip()


def _http_url(name: str, value: str) -> str:
    if value and not value.startswith(("http://", "https://")):
        raise ConfigError(f"Biến cấu hình {name}=“{value}” phải là URL http:// hoặc https://.", variable=name)
    return value


def _cutoff(name: str, value: str) -> datetime | None:
    """A cut-off date: the start of that day in UTC (empty: none)."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"Biến cấu hình {name}=“{value}” không hợp lệ: dùng ngày dạng YYYY-MM-DD.", variable=name
        ) from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class Settings:
    """Kho's configuration, read from the environment (:meth:`from_env`; the variables:
    :data:`VARIABLES`)."""

    data_dir: Path
    store_url: str
    keystore_url: str
    keystore_access_key: str
    keystore_secret_key: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_secure: bool
    s3_region: str
    s3_object_lock: bool
    master_key: bytes | None
    fsync: bool
    agency_id: str
    agency_name: str
    max_file_bytes: int
    audit_retention_days: int
    elasticsearch_url: str
    elasticsearch_index: str
    elasticsearch_shards: int
    elasticsearch_replicas: int
    broker_url: str
    tika_url: str
    ocr_lang: str
    trust_dir: str
    allow_fetching: bool
    sha1_seals_until: datetime | None = None
    password_memory_kb: int = 65536
    password_time_cost: int = 3
    audit_group_commit: bool = True
    login_max_failures: int = 5
    login_lock_hours: int = 24
    session_idle_minutes: int = 30
    token_idle_minutes: int = 30
    audit_signing_key: Path | None = None
    audit_public_key: Path | None = None
    audit_checkpoint_dir: Path | None = None
    backup_urls: tuple[str, ...] = ()
    backup_keys_url: str = ""
    key_backup_shred_days: int = 30
    capacity_warn_percent: int = 80
    capacity_critical_percent: int = 95
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "kho@localhost"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    holidays_file: Path | None = None
    base_url: str = ""
    backup_s3_endpoint: str = ""
    backup_s3_access_key: str = ""
    backup_s3_secret_key: str = ""
    backup_lock_days: int = 0
    backup_schedule: str = "02:00"
    fixity_schedule: str = "03:00"
    fixity_period_days: int = 30
    sip_time_limit: float = 3600.0
    """Seconds the check of one imported package may take (``KHO_SIP_TIME_LIMIT``)."""
    capacity_schedule: str = "1h"
    handling_schedule: str = "06:30"
    due_alert_schedule: str = "07:00"
    tsa_url: str = ""
    trusted_proxies: tuple[str, ...] = ()
    """Networks of the reverse proxies whose ``X-Forwarded-For`` is read (:mod:`web.proxies`)."""
    overlap_sync_seconds: float = 0.0005
    """``KHO_OVERLAP_SYNC_MS`` in seconds (:class:`repository.storage.overlap.OverlapPolicy`)."""
    overlap_idle_cores: float = 0.5
    """``KHO_OVERLAP_IDLE_CORES`` (:class:`repository.storage.overlap.OverlapPolicy`)."""
    allow_unsealed: bool = False
    """Upgrade window only (``KHO_ALLOW_UNSEALED``): with a master key, account and unit versions of
    a format before seals are read (:mod:`repository.seals`, ``Verdict.LEGACY``) instead of refused,
    until ``kho account seal`` has sealed them."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return env.get(name, VARIABLES[name][0]).strip()

        raw_data_dir = get("KHO_DATA_DIR")
        if not raw_data_dir or not raw_data_dir.isprintable() or not is_utf8(raw_data_dir):
            # Set but empty (``KHO_DATA_DIR=`` from an unset variable in a unit file), Path("")
            # is the current folder: every command would open (and write) a second, empty Kho
            # wherever it was started, silently.
            raise ConfigError(
                f"Biến cấu hình KHO_DATA_DIR=“{_shown(raw_data_dir)}” không hợp lệ: cần đường dẫn"
                " thư mục dữ liệu của Kho (văn bản UTF-8, không rỗng); bỏ hẳn biến thì dùng"
                " ./kho-data.",
                variable="KHO_DATA_DIR",
            )
        untrimmed = env.get("KHO_DATA_DIR")
        if untrimmed is not None and untrimmed != raw_data_dir and Path(untrimmed).expanduser().exists():
            # Trimmed, as every variable is; but when the folder with the spaces is the one that
            # exists, the trimmed name would silently open (and create) a second, empty Kho.
            raise ConfigError(
                f"Biến cấu hình KHO_DATA_DIR=“{_shown(untrimmed)}” có khoảng trắng ở đầu hoặc cuối,"
                " và thư mục có các khoảng trắng đó tồn tại: Kho không đoán dùng thư mục nào; hãy"
                " đổi tên thư mục hoặc viết đúng biến.",
                variable="KHO_DATA_DIR",
            )
        data_dir = Path(raw_data_dir).expanduser()
        store_url = get("KHO_STORE_URL") or f"file://{(data_dir / 'store').resolve()}"
        keystore_url = get("KHO_KEYSTORE_URL") or f"file://{(data_dir / 'keys').resolve()}"
        for name, url in (("KHO_STORE_URL", store_url), ("KHO_KEYSTORE_URL", keystore_url)):
            if not url.startswith(("file://", "s3://", "/")):
                raise ConfigError(
                    f"Biến cấu hình {name}=“{url}” không hợp lệ: dùng file:///đường/dẫn hoặc"
                    " s3://tên-bucket.",
                    variable=name,
                )
        s3_endpoint = get("KHO_S3_ENDPOINT")
        if "s3://" in (store_url[:5], keystore_url[:5]) and not s3_endpoint:
            raise ConfigError(
                "Dùng kho S3 thì phải đặt KHO_S3_ENDPOINT (ví dụ minio:9000).",
                variable="KHO_S3_ENDPOINT",
            )
        master_key = None
        if raw := get("KHO_MASTER_KEY"):
            try:
                master_key = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                master_key = b""
            if len(master_key) not in (16, 24, 32):
                raise ConfigError(
                    "KHO_MASTER_KEY phải là base64 của khóa 16, 24 hoặc 32 byte.",
                    variable="KHO_MASTER_KEY",
                )
        from repository.identifiers import is_organ_id

        agency_id = get("KHO_AGENCY_ID")
        if not is_organ_id(agency_id):
            raise ConfigError(
                f"KHO_AGENCY_ID=“{agency_id}” không phải mã định danh hợp lệ (QĐ 20/2020/QĐ-TTg:"
                " tối đa 35 ký tự A–Z, 0–9, dấu chấm).",
                variable="KHO_AGENCY_ID",
            )
        # Read by the verification pool from the environment (ingest/signatures/_pool.py):
        # refused here with their names, before any worker starts, not as a traceback there.
        fast_path_parts(get("KHO_SIGNATURE_FAST_PATH"))
        process_settings(env)
        _int("KHO_SIGNATURE_WORKERS", get("KHO_SIGNATURE_WORKERS"), 1, 64)
        _int("KHO_SIGNATURE_MEMORY_MB", get("KHO_SIGNATURE_MEMORY_MB"), 256, 1_048_576)
        _seconds("KHO_SIGNATURE_TIMEOUT", get("KHO_SIGNATURE_TIMEOUT"), 1, 86_400)
        _seconds("KHO_SIGNATURE_READY_TIMEOUT", get("KHO_SIGNATURE_READY_TIMEOUT"), 1, 3_600)
        # And by the pdfium pools (ingest/text/box.py), at a document's first page: "abc" was a
        # ValueError there (a 500 on a page image, INGEST_STEP_FAILED on an upload), 100000 a
        # pool of that many processes (review rv45).
        _int("KHO_TEXT_WORKERS", get("KHO_TEXT_WORKERS"), 1, 64)
        _int("KHO_VIEW_WORKERS", get("KHO_VIEW_WORKERS"), 1, 64)
        broker = get("KHO_BROKER_URL")
        if broker and not broker.startswith(("redis://", "rediss://", "amqp://", "memory://")):
            raise ConfigError(
                f"KHO_BROKER_URL=“{broker}” không hợp lệ: dùng redis://máy:cổng/số.",
                variable="KHO_BROKER_URL",
            )
        for name in ("KHO_ELASTICSEARCH_URL", "KHO_TIKA_URL"):
            value = get(name)
            if value and not value.startswith(("http://", "https://")):
                raise ConfigError(
                    f"Biến cấu hình {name}=“{value}” phải là URL http:// hoặc https://.",
                    variable=name,
                )
        if holidays := get("KHO_HOLIDAYS_FILE"):
            from repository.workflow import load_holidays

            load_holidays(Path(holidays).expanduser())  # refused here with its name, not in a page
        return cls(
            data_dir=data_dir,
            store_url=store_url,
            keystore_url=keystore_url,
            keystore_access_key=get("KHO_KEYSTORE_ACCESS_KEY"),
            keystore_secret_key=get("KHO_KEYSTORE_SECRET_KEY"),
            s3_endpoint=s3_endpoint,
            s3_access_key=get("KHO_S3_ACCESS_KEY"),
            s3_secret_key=get("KHO_S3_SECRET_KEY"),
            s3_secure=_bool("KHO_S3_SECURE", get("KHO_S3_SECURE")),
            s3_region=get("KHO_S3_REGION"),
            s3_object_lock=_bool("KHO_S3_OBJECT_LOCK", get("KHO_S3_OBJECT_LOCK")),
            master_key=master_key,
            fsync=_bool("KHO_FSYNC", get("KHO_FSYNC")),
            overlap_sync_seconds=_number(
                "KHO_OVERLAP_SYNC_MS", get("KHO_OVERLAP_SYNC_MS"), 0, 1000, "mili giây"
            ) / 1000,
            overlap_idle_cores=_number(
                "KHO_OVERLAP_IDLE_CORES", get("KHO_OVERLAP_IDLE_CORES"), 0, 1024, "lõi CPU"
            ),
            allow_unsealed=_bool("KHO_ALLOW_UNSEALED", get("KHO_ALLOW_UNSEALED")),
            agency_id=agency_id,
            agency_name=get("KHO_AGENCY_NAME"),
            max_file_bytes=_int("KHO_MAX_FILE_MB", get("KHO_MAX_FILE_MB"), 1, 4096) * 1024 * 1024,
            audit_retention_days=_int(
                "KHO_AUDIT_RETENTION_DAYS", get("KHO_AUDIT_RETENTION_DAYS"), 0, 36500
            ),
            elasticsearch_url=get("KHO_ELASTICSEARCH_URL"),
            elasticsearch_index=get("KHO_ELASTICSEARCH_INDEX"),
            elasticsearch_shards=_int("KHO_ELASTICSEARCH_SHARDS", get("KHO_ELASTICSEARCH_SHARDS"),
                                      1, 1024),
            elasticsearch_replicas=_int("KHO_ELASTICSEARCH_REPLICAS",
                                        get("KHO_ELASTICSEARCH_REPLICAS"), 0, 16),
            broker_url=broker,
            tika_url=get("KHO_TIKA_URL"),
            ocr_lang=get("KHO_OCR_LANG"),
            trust_dir=get("KHO_TRUST_DIR"),
            allow_fetching=_bool("KHO_ALLOW_FETCHING", get("KHO_ALLOW_FETCHING")),
            sha1_seals_until=_cutoff("KHO_SIGNATURE_SHA1_SEALS_UNTIL", get("KHO_SIGNATURE_SHA1_SEALS_UNTIL")),
            password_memory_kb=_int("KHO_PASSWORD_MEMORY_KB", get("KHO_PASSWORD_MEMORY_KB"), 1024, 4_194_304),
            password_time_cost=_int("KHO_PASSWORD_TIME_COST", get("KHO_PASSWORD_TIME_COST"), 1, 100),
            audit_group_commit=_bool("KHO_AUDIT_GROUP_COMMIT", get("KHO_AUDIT_GROUP_COMMIT")),
            login_max_failures=_int("KHO_LOGIN_MAX_FAILURES", get("KHO_LOGIN_MAX_FAILURES"), 1, 100),
            login_lock_hours=_lock_hours(get("KHO_LOGIN_LOCK_HOURS")),
            session_idle_minutes=_int(
                "KHO_SESSION_IDLE_MINUTES", get("KHO_SESSION_IDLE_MINUTES"), 1, 24 * 60
            ),
            token_idle_minutes=_int("KHO_TOKEN_IDLE_MINUTES", get("KHO_TOKEN_IDLE_MINUTES"), 1, 90 * 24 * 60),
            audit_signing_key=Path(v).expanduser() if (v := get("KHO_AUDIT_SIGNING_KEY")) else None,
            audit_public_key=Path(v).expanduser() if (v := get("KHO_AUDIT_PUBLIC_KEY")) else None,
            backup_urls=tuple(u.strip() for u in get("KHO_BACKUP_URLS").split(",") if u.strip()),
            backup_keys_url=get("KHO_BACKUP_KEYS_URL"),
            capacity_warn_percent=_int("KHO_CAPACITY_WARN_PERCENT", get("KHO_CAPACITY_WARN_PERCENT"), 1, 100),
            capacity_critical_percent=_int(
                "KHO_CAPACITY_CRITICAL_PERCENT", get("KHO_CAPACITY_CRITICAL_PERCENT"), 1, 100
            ),
            key_backup_shred_days=_int(
                "KHO_KEY_BACKUP_SHRED_DAYS", get("KHO_KEY_BACKUP_SHRED_DAYS"), 0, 3650
            ),
            smtp_host=get("KHO_SMTP_HOST"),
            smtp_port=_int("KHO_SMTP_PORT", get("KHO_SMTP_PORT"), 1, 65535),
            smtp_from=get("KHO_SMTP_FROM"),
            smtp_user=get("KHO_SMTP_USER"),
            smtp_password=get("KHO_SMTP_PASSWORD"),
            smtp_starttls=_bool("KHO_SMTP_STARTTLS", get("KHO_SMTP_STARTTLS")),
            holidays_file=Path(v).expanduser() if (v := get("KHO_HOLIDAYS_FILE")) else None,
            base_url=_http_url("KHO_BASE_URL", get("KHO_BASE_URL")).rstrip("/"),  # (links in e-mails)
            audit_checkpoint_dir=Path(
                get("KHO_AUDIT_CHECKPOINT_DIR") or data_dir / "audit-checkpoints"
            ).expanduser(),
            backup_s3_endpoint=get("KHO_BACKUP_S3_ENDPOINT"),
            backup_s3_access_key=get("KHO_BACKUP_S3_ACCESS_KEY"),
            backup_s3_secret_key=get("KHO_BACKUP_S3_SECRET_KEY"),
            backup_lock_days=_int("KHO_BACKUP_LOCK_DAYS", get("KHO_BACKUP_LOCK_DAYS"), 0, 36500),
            backup_schedule=_schedule("KHO_BACKUP_SCHEDULE", get("KHO_BACKUP_SCHEDULE")),
            fixity_schedule=_schedule("KHO_FIXITY_SCHEDULE", get("KHO_FIXITY_SCHEDULE")),
            fixity_period_days=_int("KHO_FIXITY_PERIOD_DAYS", get("KHO_FIXITY_PERIOD_DAYS"), 1, 3650),
            sip_time_limit=_seconds("KHO_SIP_TIME_LIMIT", get("KHO_SIP_TIME_LIMIT"), 1, 7 * 86_400),
            capacity_schedule=_schedule("KHO_CAPACITY_SCHEDULE", get("KHO_CAPACITY_SCHEDULE")),
            handling_schedule=_schedule("KHO_HANDLING_SCHEDULE", get("KHO_HANDLING_SCHEDULE")),
            due_alert_schedule=_schedule("KHO_DUE_ALERT_SCHEDULE", get("KHO_DUE_ALERT_SCHEDULE")),
            tsa_url=_http_url("KHO_TSA_URL", get("KHO_TSA_URL")),
            trusted_proxies=_proxies(
                "KHO_TRUSTED_PROXIES",
                get("KHO_TRUSTED_PROXIES"),
                _bool("KHO_TRUSTED_PROXIES_WIDE", get("KHO_TRUSTED_PROXIES_WIDE")),
            ),
        )

    def backup_options(self) -> dict[str, object]:
        """Options of the backup destinations: a second S3 server with its own credential when
        ``KHO_BACKUP_S3_*`` are set (a leaked store credential does not reach the copies), and
        object lock when write-once backups are asked for."""
        options = self.store_options()
        if self.backup_s3_endpoint:
            options["endpoint"] = self.backup_s3_endpoint
        if self.backup_s3_access_key:
            options["access_key"] = self.backup_s3_access_key
            options["secret_key"] = self.backup_s3_secret_key
        options["object_lock"] = self.backup_lock_days > 0
        return options

    def key_backup_options(self) -> dict[str, object]:
        """The key-store backup is never write-once: crypto-shredding must be able to remove a
        destroyed record's key from it (``KHO_KEY_BACKUP_SHRED_DAYS``)."""
        return {**self.backup_options(), "object_lock": False}

    def store_options(self) -> dict[str, object]:
        return {
            "endpoint": self.s3_endpoint,
            "access_key": self.s3_access_key,
            "secret_key": self.s3_secret_key,
            "secure": self.s3_secure,
            "region": self.s3_region or None,
            "object_lock": self.s3_object_lock,
            "fsync": self.fsync,
            "overlap_sync_seconds": self.overlap_sync_seconds,
            "overlap_idle_cores": self.overlap_idle_cores,
        }

    def keystore_options(self) -> dict[str, object]:
        """Options of the key store: its own S3 credentials when configured (production keeps
        keys and content apart: a leaked content credential does not reach the keys)."""
        options = self.store_options()
        if self.keystore_access_key:
            options["access_key"] = self.keystore_access_key
            options["secret_key"] = self.keystore_secret_key
        return options


def configuration_table() -> str:
    """The Markdown table of every variable (kept in the README)."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, (default, meaning) in VARIABLES.items():
        rows.append(
            f"| `{name}` | `{default}` | {meaning} |" if default else f"| `{name}` | | {meaning} |"
        )
    return "\n".join(rows)

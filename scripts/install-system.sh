#!/usr/bin/env bash
# Debian packages the real services and tools need: Redis (Celery broker), Ceph RGW (S3),
# Tesseract with the Vietnamese model (OCR), poppler (PDF tools), LibreOffice (legacy .doc);
# Java 17 + Maven + unzip to fetch and run Elasticsearch and Tika (scripts/services.sh);
# Chromium for the browser tests (Playwright drives the system binary: tests/web/test_browser.py);
# wrk, the HTTP load tool of bench/bench_web.py.
set -euo pipefail
pkgs=(curl unzip maven openjdk-17-jdk-headless redis-server tesseract-ocr tesseract-ocr-vie ceph-mon ceph-osd radosgw poppler-utils qpdf fonts-liberation2 fonts-dejavu-core antiword catdoc chromium wrk)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

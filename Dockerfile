# Kho application image: web, Celery worker and beat share it (docker-compose.yml).
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-vie antiword catdoc \
      fonts-liberation2 poppler-utils curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY kho kho
COPY repository repository
COPY ingest ingest
COPY search search
COPY retention retention
COPY web web
RUN pip install --no-cache-dir -c constraints.txt .
ENV KHO_DATA_DIR=/data
VOLUME ["/data"]

# Kho application image: web (gunicorn), Celery worker and beat share it (docker-compose.yml).
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-vie antiword catdoc \
      fonts-liberation2 fonts-dejavu-core poppler-utils curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin kho \
 && mkdir -p /data && chown kho:kho /data
WORKDIR /app
# Dependencies first (a layer that changes only with pyproject.toml), then the code.
COPY pyproject.toml README.md constraints.txt ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['production']))" > /tmp/requirements.txt \
 && pip install --no-cache-dir -c constraints.txt -r /tmp/requirements.txt && rm /tmp/requirements.txt
COPY kho kho
COPY repository repository
COPY ingest ingest
COPY search search
COPY retention retention
COPY web web
RUN pip install --no-cache-dir --no-deps .
# gunicorn and celery put the working folder first on sys.path, so their processes import these
# copies, not the installed (byte-compiled) package; the user kho cannot write their bytecode,
# so without this every process would compile Kho's modules again as it starts.
RUN python -m compileall -q kho repository ingest search retention web
ENV KHO_DATA_DIR=/data
USER kho
VOLUME ["/data"]

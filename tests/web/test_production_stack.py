"""The production stack (docker-compose.yml, Dockerfiles) checked as far as it can be without a
Docker engine: the configuration Kho would be given is valid, the web server is a real WSGI
server that loads the app, health checks use commands the images have, keys and content have
separate credentials, the images run unprivileged, and the service versions match the ones the
test suite runs against (scripts/services.sh)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from kho.config import VARIABLES, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
SERVICES_SH = (ROOT / "scripts" / "services.sh").read_text(encoding="utf-8")


def _substituted(value: str) -> str:
    """Compose's ${VAR:?msg} / ${VAR:-default} with test values."""
    value = re.sub(r"\$\{([A-Z_]+):-([^}]*)\}", lambda m: m.group(2), value)
    return re.sub(r"\$\{([A-Z_]+)(:\?[^}]*)?\}", lambda m: {
        "KHO_MASTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        # as `python3 -c "import secrets; print(secrets.token_hex(32))"` makes it (a20 refuses a weak one)
        "KHO_SESSION_SECRET": "db70a9cd4bbaa7d2bfeebc1665e8350ae98bd3c32a1ec93adbb1dd3262c5f654",
    }.get(m.group(1), f"test-{m.group(1).lower()}"), value)


def _kho_env() -> dict[str, str]:
    env = SERVICES["web"]["environment"]
    return {k: _substituted(str(v)) for k, v in env.items()}


def _script_version(name: str) -> str:
    match = re.search(rf"^{name}=(\S+)$", SERVICES_SH, re.MULTILINE)
    assert match, name
    return match.group(1)


def test_every_kho_variable_is_known_and_the_configuration_loads(tmp_path):
    env = _kho_env()
    unknown = sorted(set(env) - set(VARIABLES))
    assert not unknown, f"docker-compose.yml sets variables Kho does not read: {unknown}"
    settings = Settings.from_env({**env, "KHO_DATA_DIR": str(tmp_path)})
    assert settings.store_url == "s3://kho-records"
    assert settings.keystore_url == "s3://kho-keys"
    assert settings.elasticsearch_url and settings.tika_url and settings.broker_url


def test_keys_have_their_own_bucket_and_credentials_not_the_minio_root_user():
    env = SERVICES["web"]["environment"]
    root_values = {str(v) for v in SERVICES["minio"]["environment"].values()}
    store = (env["KHO_S3_ACCESS_KEY"], env["KHO_S3_SECRET_KEY"])
    keys = (env["KHO_KEYSTORE_ACCESS_KEY"], env["KHO_KEYSTORE_SECRET_KEY"])
    assert store[0] != keys[0] and store[1] != keys[1]
    assert not (set(store) | set(keys)) & root_values
    assert env["KHO_STORE_URL"] != env["KHO_KEYSTORE_URL"]
    script = "\n".join(SERVICES["minio-init"]["command"])
    for user, policy in ((store[0], "kho-content"), (keys[0], "kho-keystore")):
        assert f"user add kho {user}" in script
        assert f"policy attach kho {policy} --user {user}" in script
        document = json.loads((ROOT / "docker" / "minio" / f"{policy}.json").read_text())
        resources = {r for s in document["Statement"] if s["Effect"] == "Allow"
                     for r in s["Resource"]}
        bucket = "kho-records" if policy == "kho-content" else "kho-keys"
        assert all(r.split(":::")[1].startswith(bucket) for r in resources), resources
    assert "--with-lock kho/kho-records" in script  # object lock on the content bucket


def test_web_is_gunicorn_behind_tls_and_gunicorn_loads_the_app(tmp_path, monkeypatch):
    command = SERVICES["web"]["command"]
    assert command[0] == "gunicorn" and "serve" not in command
    assert "--certfile" in command and "--keyfile" in command
    assert any(v.endswith(":/tls:ro") for v in SERVICES["web"]["volumes"])
    assert SERVICES["web"]["healthcheck"]["test"][-1].startswith("https://")
    from gunicorn.util import import_app

    monkeypatch.setenv("KHO_DATA_DIR", str(tmp_path))
    for name in ("KHO_STORE_URL", "KHO_KEYSTORE_URL", "KHO_ELASTICSEARCH_URL", "KHO_BROKER_URL",
                 "KHO_TIKA_URL"):
        monkeypatch.delenv(name, raising=False)
    app = import_app(command[-1])
    assert app.test_client().get("/healthz").status_code == 200


def test_health_checks_use_commands_the_images_have():
    assert SERVICES["minio"]["healthcheck"]["test"][:3] == ["CMD", "mc", "ready"]  # no curl there
    tika = SERVICES["tika"]["healthcheck"]["test"]
    assert "curl" not in " ".join(tika) and "wget" not in " ".join(tika)
    for name, service in SERVICES.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in SERVICES, (name, dependency)
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], (name, dependency)


def test_images_are_pinned_and_match_the_versions_the_suite_runs_against():
    for name, service in SERVICES.items():
        image = service.get("image", "")
        if "build" in service:
            continue
        assert ":" in image and not image.endswith(":latest"), (name, image)
    es_version = _script_version("ES_VERSION")
    tika_version = _script_version("TIKA_VERSION")
    assert SERVICES["elasticsearch"]["build"]["args"]["ES_VERSION"] == es_version
    assert SERVICES["tika"]["image"].startswith(f"apache/tika:{tika_version}.")
    es_dockerfile = (ROOT / "docker" / "elasticsearch" / "Dockerfile").read_text()
    assert f"ARG ES_VERSION={es_version}" in es_dockerfile
    assert "search/es-analysis/src" in es_dockerfile  # the plugin the tests use


def test_application_image_runs_unprivileged_and_installs_dependencies_before_the_code():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    first_code = min(i for i, line in enumerate(lines) if re.match(r"COPY (kho|web|search) ", line))
    deps = min(i for i, line in enumerate(lines) if "pip install" in line and "requirements" in line)
    manifest = min(i for i, line in enumerate(lines) if line.startswith("COPY pyproject.toml"))
    assert manifest < deps < first_code
    assert "constraints.txt" in lines[manifest] and "-c constraints.txt" in lines[deps]  # the pins apply


def test_application_image_byte_compiles_the_code_its_processes_import():
    """gunicorn and celery import the copies in the working folder, which the unprivileged user
    cannot write bytecode for: they are compiled in the image, after the last copy of code and
    before the user changes."""
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    copied = {line.split()[1] for line in lines if re.match(r"COPY [a-z]+ [a-z]+$", line)}
    last_copy = max(i for i, line in enumerate(lines) if re.match(r"COPY [a-z]+ [a-z]+$", line))
    user = max(i for i, line in enumerate(lines) if line.startswith("USER "))
    compiles = [i for i, line in enumerate(lines) if line.startswith("RUN python -m compileall")]
    assert compiles and last_copy < compiles[0] < user
    assert copied and copied <= set(lines[compiles[0]].split()[4:])


@pytest.mark.parametrize("name", ["worker", "web", "beat"])
def test_no_development_server(name):
    assert SERVICES[name]["command"][:2] != ["kho", "serve"]


def test_one_beat_scheduler_runs_the_backup_fixity_and_capacity_jobs(tmp_path):
    from ingest.celery_app import BEAT_JOBS, beat_schedule

    beat = SERVICES["beat"]
    assert beat["command"][:4] == ["celery", "-A", "ingest.celery_app", "beat"]
    schedule_file = beat["command"][beat["command"].index("--schedule") + 1]
    assert schedule_file.startswith("/data/")  # on the data volume: survives a restart
    assert beat.get("deploy", {}).get("replicas") == 1  # never two schedulers
    assert beat["environment"] == SERVICES["worker"]["environment"]  # the workers run what it sends
    settings = Settings.from_env({**_kho_env(), "KHO_DATA_DIR": str(tmp_path)})
    schedule = beat_schedule(settings)
    assert {job.task for job in BEAT_JOBS} == {
        "kho.retention.backup", "kho.retention.fixity", "kho.retention.capacity",
        "kho.handling.flag_deadlines", "kho.retention.due_alerts",
    }
    assert {entry["task"] for entry in schedule.values()} == {job.task for job in BEAT_JOBS}
    backup_at = schedule["daily-backup"]["schedule"]
    assert backup_at.hour == {2} and backup_at.minute == {0}  # daily, 02:00 Vietnam time
    # Backups need their destinations on both beat's and the workers' side.
    assert settings.backup_urls and settings.backup_keys_url
    assert settings.backup_keys_url not in settings.backup_urls
    for name in ("worker", "beat"):
        mounts = {str(v).removesuffix(":ro").rsplit(":", 1)[1] for v in SERVICES[name]["volumes"]}
        assert {"/backup", "/backup-keys"} <= mounts


def test_kho_serve_production_runs_gunicorn_on_the_app_the_container_runs(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from web import cli

    assert SERVICES["web"]["command"][-1] == cli.WSGI_APP
    started: list[list[str]] = []
    monkeypatch.setattr("os.execv", lambda path, argv: started.append(argv))
    result = CliRunner().invoke(cli.main, ["serve", "--production", "--port", "8123", "--workers", "3"])
    assert result.exit_code == 0, result.output
    (argv,) = started
    assert argv[1:3] == ["-m", "gunicorn"] and argv[-1] == "web.app:create_app()"
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8123"
    assert argv[argv.index("--workers") + 1] == "3"
    # The interpreter has gunicorn, and gunicorn builds the app from that string.
    import subprocess

    env = {"KHO_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    check = subprocess.run(
        [argv[0], "-c", "from gunicorn.util import import_app; import sys; "
         "app = import_app(sys.argv[1]); print(app.test_client().get('/api/openapi.json').status_code)",
         argv[-1]],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )
    assert check.stdout.strip() == "200", check.stderr

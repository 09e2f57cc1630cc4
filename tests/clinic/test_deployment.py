"""The deployment files agree with the settings, and production settings are safe."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def procfile(name: str = "Procfile") -> dict[str, str]:
    lines = (ROOT / name).read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def production_env(tmp_path, **extra) -> dict[str, str]:
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests in this process; never in production.
    dropped = {"DJANGO_DEBUG", "SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update({"DJANGO_DEBUG": "0", "ALLOWED_HOSTS": "clinic.example.org", "VAR_DIR": str(tmp_path)})
    env.update(extra)
    return env


def test_compose_has_the_production_services_with_health_checks():
    services = compose()["services"]
    assert {"db", "redis", "web", "worker", "beat", "mailpit", "migrate"} <= set(services)
    assert services["db"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert services["mailpit"]["image"] == "axllent/mailpit"
    for name in ("db", "redis", "web"):
        assert "healthcheck" in services[name], name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert {"pgdata", "uploads"} <= set(compose()["volumes"])


def test_compose_runs_the_same_commands_as_the_procfile():
    services = compose()["services"]
    for process, command in procfile().items():
        assert services[process]["command"] == command, process


def test_compose_sets_only_variables_the_settings_read():
    env = compose()["services"]["web"]["environment"]
    assert set(env) <= set(settings.ENV_VARS), set(env) - set(settings.ENV_VARS)
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["REDIS_URL"].startswith("redis://")
    assert env["DJANGO_DEBUG"] == "0"


def test_the_local_worker_is_the_production_worker_with_beat():
    local = procfile("Procfile.dev")["worker"]
    assert "celery -A clinic worker -B" in local
    assert procfile()["worker"].startswith("celery -A clinic worker")


def test_readme_documents_every_variable_and_both_commands():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in settings.ENV_VARS if f"`{name}`" not in readme]
    assert missing == []
    assert "make run" in readme
    assert "make test" in readme


def test_ci_runs_make_test_on_postgres_and_the_embedded_tier():
    script = (ROOT / ".ci" / "run").read_text()
    # The URLs may be quoted (the database name is made per run).
    assert re.search(r'^\s*DATABASE_URL="?postgres\S* REDIS_URL="?redis\S* \\\n\s*make test', script, re.M)
    assert "make test-embedded" in script


def test_production_settings_pass_check_deploy(tmp_path):
    env = production_env(tmp_path, SECRET_KEY=secrets.token_urlsafe(64))
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_without_secret_key_refuses_to_start_with_a_clear_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=production_env(tmp_path), capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "SECRET_KEY is not set. Production (DJANGO_DEBUG off) refuses to start without it" in result.stderr

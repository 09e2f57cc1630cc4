"""The development .env: `make run` writes it (SITE_URL following PORT), local commands read it,
the real environment wins, and production never uses it."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from clinic import local_env

ROOT = Path(__file__).resolve().parents[2]
# What a fresh shell after `make run` has: none of the settings' own variables.
UNSET = {"DJANGO_DEBUG", "SECRET_KEY", "SITE_URL", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "VAR_DIR"}


def bare_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET and k not in settings.ENV_VARS}
    env.update(extra)
    return env


def make_run_writes_env_file(env_file: Path, var_dir: Path, port: str) -> None:
    """Run the line of `make run` that writes the .env, as make computes it for PORT."""
    # Not the flags of a `make test` this runs under (its command-line variables would carry over).
    make_env = {k: v for k, v in bare_env().items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    plan = subprocess.run(
        ["make", "-n", "run", f"PORT={port}", f"BIN={Path(sys.executable).parent}", f"VAR_DIR={var_dir}"],
        cwd=ROOT, env=make_env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    (line,) = [line for line in plan.splitlines() if "-m clinic.local_env" in line]
    subprocess.run(
        shlex.split(line), cwd=ROOT, env=bare_env(ENV_FILE=str(env_file)), timeout=60, check=True, capture_output=True
    )


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def written(tmp_path) -> Path:
    env_file = tmp_path / ".env"
    make_run_writes_env_file(env_file, tmp_path / "var", port="8811")
    return env_file


def test_make_run_with_port_8811_writes_a_development_env_whose_email_links_use_8811(written, tmp_path):
    values = local_env.read(written)
    assert values["SITE_URL"] == "http://localhost:8811"
    assert values["DJANGO_DEBUG"] == "1"
    assert values["VAR_DIR"] == str((tmp_path / "var").resolve())
    assert len(values["SECRET_KEY"]) >= 50
    assert stat.S_IMODE(written.stat().st_mode) == 0o600  # it holds a signing key
    # A later command, with nothing exported, renders an e-mail the way the services do.
    render = (
        "from django.conf import settings; from django.urls import reverse; from clinic.outbox import render_email; "
        "link = settings.SITE_URL + reverse('login'); "
        "print(render_email('portal_invitation', {'physician': 'Dr A', 'link': link})[1])"
    )
    result = manage("shell", "-c", render, env=bare_env(ENV_FILE=str(written)))
    assert result.returncode == 0, result.stderr
    assert "http://localhost:8811/accounts/login/" in result.stdout


def test_manage_py_check_works_with_only_the_env_file(written):
    result = manage("check", env=bare_env(ENV_FILE=str(written)))
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_real_environment_wins_over_the_file(written):
    show = "from django.conf import settings; print(settings.SITE_URL, settings.SECRET_KEY)"
    result = manage("shell", "-c", show, env=bare_env(ENV_FILE=str(written), SITE_URL="https://demo.example"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["https://demo.example", local_env.read(written)["SECRET_KEY"]]


def test_production_with_the_env_file_present_still_refuses_without_its_own_secret_key(written):
    result = manage("check", env=bare_env(ENV_FILE=str(written), DJANGO_DEBUG="0", ALLOWED_HOSTS="clinic.example.org"))
    assert result.returncode != 0
    assert settings.NO_SIGNING_KEY_MESSAGE in result.stderr


def test_a_second_run_keeps_the_key_and_other_lines_and_follows_the_new_port(written, tmp_path):
    first = local_env.read(written)
    written.write_text(written.read_text() + "LOG_LEVEL=DEBUG\n")
    local_env.write(written, site_url="http://localhost:8000/")
    again = local_env.read(written)
    assert again["SITE_URL"] == "http://localhost:8000"
    assert again["SECRET_KEY"] == first["SECRET_KEY"]
    assert again["VAR_DIR"] == first["VAR_DIR"]  # none given this time: the earlier one stays
    assert again["LOG_LEVEL"] == "DEBUG"


def test_the_file_counts_only_for_development(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_DEBUG=1\nSECRET_KEY=from-the-file\n")
    assert local_env.development_values(env_file, environ={}) == {"DJANGO_DEBUG": "1", "SECRET_KEY": "from-the-file"}
    assert local_env.development_values(env_file, environ={"DJANGO_DEBUG": "yes"})["SECRET_KEY"] == "from-the-file"
    env_file.write_text("SECRET_KEY=from-the-file\n")  # the file does not turn DEBUG on
    assert local_env.development_values(env_file, environ={}) == {}
    assert local_env.development_values(tmp_path / "absent.env", environ={"DJANGO_DEBUG": "1"}) == {}

    def opened(path):
        raise AssertionError("the file must not be opened when DJANGO_DEBUG is off")

    monkeypatch.setattr(local_env, "read", opened)
    for off in ("0", "", "false"):
        assert local_env.development_values(env_file, environ={"DJANGO_DEBUG": off}) == {}


def test_values_are_read_literally(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_DEBUG=1\nSECRET_KEY='a$HOME-${USER}b'\n")
    assert local_env.read(env_file)["SECRET_KEY"] == "a$HOME-${USER}b"

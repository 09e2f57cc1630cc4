"""Patient-link tokens never reach a log: the real gunicorn, started with the Procfile's web
command, serves a patient's confirm link, a page asset whose Referer is that link, and a link
to an appointment that no longer exists (Django logs "Gone: <path>"); then its access and
error logs are read. The request line, the Referer and Django's warning are all there, each
with the token replaced."""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import os
import shlex
import signal
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.utils import timezone

from clinic.log_redaction import REDACTED
from scheduling import links
from scheduling.models import Appointment
from tests.integration.conftest import ROOT, free_port, wait_for, worker_env
from tests.scheduling.conftest import world  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def web_commands() -> dict[str, str]:
    """The web command of each way the app is deployed, as one shell-style string."""
    procfile = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    dockerfile = next(line for line in (ROOT / "Dockerfile").read_text().replace("\\\n", "").splitlines()
                      if line.startswith("CMD"))  # fmt: skip
    compose = (ROOT / "docker-compose.yml").read_text().split("\n  web:\n", 1)[1]
    compose_command = next(line for line in compose.splitlines() if line.strip().startswith("command:"))
    return {
        "Procfile": procfile.removeprefix("web:").strip(),
        "Dockerfile": " ".join(json.loads(dockerfile.removeprefix("CMD"))),
        "docker-compose.yml": compose_command.split("command:", 1)[1].strip(),
    }


def test_every_deployment_runs_the_same_web_command():
    commands = web_commands()
    assert len(set(commands.values())) == 1, commands
    assert "--logger-class clinic.gunicorn_logging.RedactingLogger" in commands["Procfile"]


@pytest.fixture
def gunicorn(tmp_path):
    """The Procfile's gunicorn on a free port, one worker, its stdout and stderr in files."""
    argv = shlex.split(web_commands()["Procfile"])
    port = free_port()
    argv[argv.index("--bind") + 1] = f"127.0.0.1:{port}"
    argv[argv.index("--workers") + 1] = "1"
    out, err = (tmp_path / "gunicorn.out").open("wb"), (tmp_path / "gunicorn.err").open("wb")
    env = {**worker_env(), "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=err)  # noqa: S603
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310 (our own server)
        except urllib.error.HTTPError:
            return True  # answering, even 503 without a broker
        except OSError:
            return False
        return True

    try:
        assert wait_for(up, timeout=60), (tmp_path / "gunicorn.err").read_text()
        yield base, lambda: (tmp_path / "gunicorn.out").read_text() + (tmp_path / "gunicorn.err").read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        out.close()
        err.close()


def test_tokens_in_patient_links_never_reach_the_web_servers_logs(world, gunicorn):  # noqa: F811
    base, read_logs = gunicorn
    starts = timezone.now() + dt.timedelta(days=7)
    appointment = Appointment.objects.create(
        patient=world.patient, referral=world.referral, procedure_type=world.consult, provider=world.provider,
        room=world.exam, location=world.location, starts_at=starts, ends_at=starts + dt.timedelta(minutes=45),
        blocks_until=starts + dt.timedelta(minutes=45),
    )  # fmt: skip
    link = links.patient_link(appointment_id=appointment.pk, purpose=links.CONFIRM, version=appointment.version)
    path = urllib.parse.urlsplit(link).path
    token = path.split("/")[3]
    gone_token = links.make_token(appointment_id=appointment.pk + 1000, purpose=links.CONFIRM, version=1)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    page = opener.open(base + path, timeout=10)  # the patient taps the link
    assert page.status == 200
    assert "Confirm I will come" in page.read().decode()
    asset = urllib.request.Request(f"{base}/favicon.ico", headers={"Referer": base + path})  # noqa: S310
    opener.open(asset, timeout=10)  # the page's own requests name it as their Referer
    with pytest.raises(urllib.error.HTTPError) as gone:
        opener.open(f"{base}/p/confirm/{gone_token}/", timeout=10)
    assert gone.value.code == 410

    def logged() -> bool:
        return read_logs().count(f"/p/confirm/{REDACTED}/") >= 4  # two request lines, a Referer, "Gone:"

    assert wait_for(logged, timeout=15), read_logs()
    logs = read_logs()
    assert f"Gone: /p/confirm/{REDACTED}/" in logs
    assert token not in logs
    assert gone_token not in logs
    assert token.split(":")[0] not in logs  # not even the signed payload

"""The local ``.env`` file: what ``make run`` remembers for later commands on this machine.

``make run`` writes it (``python -m clinic.local_env --site-url ...``) before it starts
anything, so ``manage.py shell`` or ``pytest`` typed later, with nothing exported, sees the
same development settings as the running server: DEBUG on, a signing key generated once,
``SITE_URL`` on the port the server listens on, and ``VAR_DIR`` when one was given.

The settings read it (``clinic.settings.env``) with two rules:

* a variable in the real environment always wins over the file;
* the file is for development only. A real ``DJANGO_DEBUG`` that is off means the file is
  not even opened, and a file that does not itself turn ``DJANGO_DEBUG`` on is ignored, so
  production still refuses to start without its own ``SECRET_KEY``.

No Django imports here: settings import this module before Django is configured.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values, set_key

DEFAULT_PATH = Path(__file__).resolve().parent.parent / ".env"
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
HEADER = (
    "# Written by `make run` for local commands on this machine (development only: ignored when\n"
    "# DJANGO_DEBUG is off). Variables in the real environment win over these. `make run` sets\n"
    "# DJANGO_DEBUG and SITE_URL (and VAR_DIR when given) on every run and keeps everything else.\n"
)
EMPTY_PATH = "ENV_FILE is set but empty: no .env file is read or written."


def is_on(raw: str | None) -> bool:
    """The settings' reading of a yes/no variable."""
    return (raw or "").strip().lower() in TRUE_WORDS


def read(path: Path) -> dict[str, str]:
    """Every ``KEY=value`` of the file, literally (no ``${...}`` expansion); {} if there is none."""
    if not path.is_file():
        return {}
    return {key: value for key, value in dotenv_values(path, interpolate=False).items() if value is not None}


def development_values(path: Path, *, environ: Mapping[str, str]) -> dict[str, str]:
    """The file's values if this process is a development one, else {}.

    Development means DJANGO_DEBUG on: from the real environment if it is set there (the
    file is then not opened when it is off), otherwise from the file itself.
    """
    if "DJANGO_DEBUG" in environ and not is_on(environ["DJANGO_DEBUG"]):
        return {}
    values = read(path)
    return values if is_on(environ.get("DJANGO_DEBUG", values.get("DJANGO_DEBUG"))) else {}


def write(path: Path, *, site_url: str, var_dir: str = "") -> dict[str, str]:
    """Record the development settings of ``make run``; returns the file's values after.

    1. Create the file, readable by its owner only (it holds a signing key).
    2. Set DJANGO_DEBUG and SITE_URL, and VAR_DIR when given: they follow each run's PORT
       and VAR_DIR. A VAR_DIR from an earlier run stays when none is given.
    3. Generate SECRET_KEY once, so sessions survive restarts; keep every other line.
    """
    if not path.exists():
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as new_file:
            new_file.write(HEADER)
    set_key(path, "DJANGO_DEBUG", "1")
    set_key(path, "SITE_URL", site_url.rstrip("/"))
    if var_dir:
        set_key(path, "VAR_DIR", str(Path(var_dir).resolve()))
    if not read(path).get("SECRET_KEY"):
        set_key(path, "SECRET_KEY", secrets.token_urlsafe(64))
    return read(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the development .env that `make run` leaves behind.")
    parser.add_argument("--site-url", required=True, help="Base URL of e-mail links, e.g. http://localhost:8811")
    parser.add_argument("--var-dir", default="", help="Folder for local state (kept from an earlier run if omitted)")
    args = parser.parse_args(argv)
    raw_path = os.environ.get("ENV_FILE", str(DEFAULT_PATH))
    if not raw_path:
        print(EMPTY_PATH, file=sys.stderr)
        return 0
    values = write(Path(raw_path), site_url=args.site_url, var_dir=args.var_dir)
    print(f"{raw_path}: SITE_URL={values['SITE_URL']} (local commands read this file; see README)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

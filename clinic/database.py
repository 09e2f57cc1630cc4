"""The database connection as a URL, for child processes (Celery workers started by tests
and benchmarks) that must open the same database this process uses, e.g. a throwaway one."""

from __future__ import annotations

from django.db import connection


def current_database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"

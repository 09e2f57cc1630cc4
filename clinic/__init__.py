# Load the Celery app with Django so @shared_task uses it and on_commit enqueues work.
from clinic.celery import app as celery_app

__all__ = ("celery_app",)

# Production image: gunicorn web, Celery worker and beat all run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/uploads \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected at build time; this throwaway key exists only for this step.
RUN DJANGO_DEBUG=0 SECRET_KEY=collectstatic-only-not-a-secret ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --no-input

RUN useradd --create-home --uid 1000 clinic && mkdir -p /app/var/uploads && chown -R clinic /app/var
USER clinic

EXPOSE 8000
CMD ["gunicorn", "clinic.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", \
     "--logger-class", "clinic.gunicorn_logging.RedactingLogger"]

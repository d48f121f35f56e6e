# Debrief's image: the web server by default; docker-compose.yml runs the worker and beat from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system debrief && useradd --system --gid debrief --no-create-home debrief

WORKDIR /app

# Dependencies before the code, so a code change reuses this layer. Only the production lock:
# the test and lint tools of requirements-dev.lock stay out of the image. Its hashes make pip
# check every download (--require-hashes says so outright).
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock

COPY . .

# Hashed, compressed static files are part of the image. Settings insist on a SECRET_KEY when
# DEBUG is off; this throwaway one exists only for this step and is not kept in the image.
RUN DEBUG=false SECRET_KEY=collectstatic-build-step-only python manage.py collectstatic --noinput

# var/ holds celery beat's schedule file; the app runs as an unprivileged user.
RUN mkdir -p var && chown debrief:debrief var
USER debrief

EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]

# The image of either service; build from the repository root, naming the service and its port:
#   docker build --build-arg SERVICE=user_management --build-arg PORT=3000 -t user-management .
#   docker build --build-arg SERVICE=notifications --build-arg PORT=4000 -t notifications .
FROM python:3.11-slim

ARG SERVICE
ARG PORT

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SERVICE=${SERVICE} \
    PORT=${PORT}

# Without a known SERVICE the COPY below would take the whole build context.
RUN case "$SERVICE" in user_management|notifications) ;; \
      *) echo "build with --build-arg SERVICE=user_management or notifications" >&2; exit 1 ;; esac; \
    case "$PORT" in ''|*[!0-9]*) echo "build with --build-arg PORT=<number>" >&2; exit 1 ;; esac

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /app --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY requirements/base.txt requirements/base.txt
RUN pip install -r requirements/base.txt

COPY wsgi.py ./
# Shared by both services: the contract between them, errors, config helpers, logs, metrics, OpenAPI.
COPY servicekit/ servicekit/
COPY ${SERVICE}/ ${SERVICE}/

USER app
EXPOSE ${PORT}

# No curl in slim images; urlopen raises on a 503, which fails the check.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ['PORT'], timeout=4)"]

# exec: gunicorn becomes PID 1 and receives Docker's SIGTERM itself.
CMD ["sh", "-c", "exec gunicorn -c \"$SERVICE/gunicorn.conf.py\" \"wsgi:${SERVICE}_app\""]

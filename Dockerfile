# syntax=docker/dockerfile:1
# Crypto Data Engine: REST on 8000 (aiohttp), gRPC on 50051 (grpc.aio), one process.
#
#   docker build -t crypto-data-engine .
#   docker run --rm -p 8000:8000 -p 50051:50051 crypto-data-engine
#
# Settings come from environment variables (see .env.example), e.g. `--env-file .env`.

ARG PYTHON_VERSION=3.11

# ---------------------------------------------------------------------------------------------
# Build stage: turn the project and every dependency into wheels under /wheels.
# ---------------------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS build

WORKDIR /src
# Only what the package build needs (pyproject's readme is README.md).
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
COPY protos ./protos

# The project's own wheel (--no-deps), then its dependencies, all into /wheels.
RUN pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /wheels . \
 && pip wheel --no-cache-dir --disable-pip-version-check --wheel-dir /wheels /wheels/crypto_data_engine-*.whl

# ---------------------------------------------------------------------------------------------
# Runtime stage: installs from /wheels only (no index, no compilers, no source tree).
# ---------------------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS runtime

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LOG_FORMAT=json \
    HOST=0.0.0.0 \
    PORT=8000 \
    GRPC_PORT=50051

# The wheels are bind-mounted from the build stage (BuildKit), so they never become a layer here.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --disable-pip-version-check --no-index --find-links /wheels crypto-data-engine

# Fixed, non-root UID/GID (1000 is also what Hugging Face Spaces run containers as).
RUN groupadd --system --gid 1000 app \
 && useradd --system --uid 1000 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
 && mkdir -p /app && chown app:app /app

WORKDIR /app
USER 1000:1000

EXPOSE 8000 50051

# curl is not in the slim image: ask /api/health with the standard library.
# A 503 (nothing can be served) or no answer marks the container unhealthy. PORT defaults to 8000.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/api/health' % os.environ.get('PORT', '8000'); sys.exit(0 if urllib.request.urlopen(url, timeout=4).status == 200 else 1)"]

# SIGTERM is what `docker stop` sends; the service drains both servers within SHUTDOWN_GRACE.
STOPSIGNAL SIGTERM
# Exec form: the service is PID 1 and receives SIGTERM itself (no shell in between).
CMD ["crypto-data-engine", "serve"]

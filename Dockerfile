# peakwatch: one `peakwatch serve` process (API, Kafka consumers, alerting) per container.
#   docker build -t peakwatch:0.1.0 .
#   docker run -p 8000:8000 -e PEAKWATCH_KAFKA_BOOTSTRAP=kafka:9092 \
#     -e PEAKWATCH_HUBS_FILE=/etc/peakwatch/hubs.jsonl -v ./hubs.jsonl:/etc/peakwatch/hubs.jsonl:ro \
#     peakwatch:0.1.0
# Both stages use the same pinned base, so the virtualenv built in the first runs in the second.
# For reproducible builds in CI, pin the base by digest as well (python:3.11.14-slim-bookworm@sha256:...).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# uv at the version the Makefile uses; it installs exactly what uv.lock says.
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/peakwatch
WORKDIR /src
# Dependencies first, in their own layer: it is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-default-groups --no-install-project
COPY app ./app
COPY alerts ./alerts
COPY consumers ./consumers
COPY core ./core
COPY simulator ./simulator
COPY storage ./storage
RUN uv sync --frozen --no-default-groups --no-editable

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="peakwatch" \
      org.opencontainers.image.description="Streaming risk monitor for China's express-parcel network through the Double-11 peak" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 peakwatch \
    && useradd --system --uid 10001 --gid peakwatch --home-dir /var/lib/peakwatch \
       --shell /usr/sbin/nologin peakwatch \
    && install -d -o peakwatch -g peakwatch -m 0750 /var/lib/peakwatch
COPY --from=build /opt/peakwatch /opt/peakwatch
ENV PATH=/opt/peakwatch/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PEAKWATCH_HTTP_HOST=0.0.0.0 \
    PEAKWATCH_HTTP_PORT=8000 \
    PEAKWATCH_DB_URL=sqlite+aiosqlite:////var/lib/peakwatch/peakwatch.db
WORKDIR /var/lib/peakwatch
USER 10001:10001
EXPOSE 8000
# Liveness only (/healthz); readiness, "consuming and caught up", is /readyz for orchestrators.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PEAKWATCH_HTTP_PORT', '8000') + '/healthz', timeout=4)"]
ENTRYPOINT ["peakwatch"]
CMD ["serve"]

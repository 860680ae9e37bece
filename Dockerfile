# nmbot's container image. The project goes in as wheels built on the host, so neither stage needs a compiler
# or a package index:
#
#   rm -rf wheelhouse && python3 -m pip wheel --wheel-dir wheelhouse '.[postgres]'  # nmbot and every dependency
#   docker build -t nmbot .                                                         # or: podman build --format docker
#
# Build the wheelhouse with the same Python minor version and architecture as the base image (3.11 on x86_64
# for the default). docs/deploy.md explains running it; compose.yaml runs it beside PostgreSQL.

# A Debian-based image with python3 and its venv module (an official slim Python image, or one of your own).
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
COPY wheelhouse/ /wheelhouse/
# --no-index: everything comes from the wheelhouse, so the build is the same with or without a network.
# With the postgres extra: replicas share a PostgreSQL database (compose.yaml). pip leaves the virtual
# environment afterwards: the running bot never installs anything.
RUN python3 -m venv /opt/nmbot \
 && /opt/nmbot/bin/python -m pip install --no-cache-dir --no-index --find-links /wheelhouse 'nmbot[postgres]' \
 && /opt/nmbot/bin/python -m pip uninstall --yes --quiet pip setuptools

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="nmbot" \
      org.opencontainers.image.description="Slack support bot that explains 8x8 Number Masking error codes"
# A fixed numeric user, so Kubernetes' runAsNonRoot can check it; it owns only its state directory.
RUN groupadd --system --gid 10001 nmbot \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/nmbot --no-create-home \
        --shell /usr/sbin/nologin nmbot \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/nmbot
COPY --from=build /opt/nmbot /opt/nmbot
ENV PATH=/opt/nmbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/lib/nmbot \
    NMBOT_HOST=0.0.0.0 \
    NMBOT_PORT=3000 \
    NMBOT_METRICS_HOST=0.0.0.0 \
    NMBOT_METRICS_PORT=9000 \
    NMBOT_DATABASE_URL=sqlite:////var/lib/nmbot/nmbot.sqlite3 \
    NMBOT_CACHE_DIR=/var/lib/nmbot/cache
USER 10001:10001
WORKDIR /var/lib/nmbot
VOLUME ["/var/lib/nmbot"]
# 3000: Slack's requests in HTTP mode (`serve --http`); 9000: /healthz, /readyz and /metrics in both modes.
EXPOSE 3000 9000
# Liveness on the probe port; the image has no curl, so Python asks. A 503 or no answer fails the check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/opt/nmbot/bin/python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % (os.environ.get('NMBOT_METRICS_PORT') or '9000'), timeout=4)"]
# nmbot is PID 1: SIGTERM drains and stops it, SIGHUP reloads the knowledge base (`docker kill -s HUP`).
STOPSIGNAL SIGTERM
ENTRYPOINT ["nmbot"]
CMD ["serve"]

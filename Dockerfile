# adbot in a container (docs/DEPLOY.md). Build: docker build -t adbot .
# Run with compose.yaml, or: docker run --init -v ./config.toml:/srv/adbot/config.toml:ro -v adbot-data:/srv/adbot/data \
#   -v adbot-sessions:/srv/adbot/sessions -v adbot-logs:/srv/adbot/logs adbot
FROM python:3.11-slim

# No bytecode written at run time (pip compiles the installed packages once, at build), logs unbuffered,
# pip quiet and without a cache in the image.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The code, installed into a virtualenv owned by root: the service user cannot change it.
WORKDIR /opt/adbot
COPY pyproject.toml README.md ./
COPY core ./core
COPY storage ./storage
COPY engine ./engine
COPY pool ./pool
COPY sandbox ./sandbox
COPY control_bot ./control_bot
RUN python -m venv /opt/adbot/.venv \
    && /opt/adbot/.venv/bin/pip install ".[speed]" \
    && /opt/adbot/.venv/bin/adbot --version
ENV PATH=/opt/adbot/.venv/bin:$PATH

# A non-root user; its home holds the config (mounted) and the four folders (volumes; backups: [backup] dir). Relative paths in
# the config are relative to its folder, so config.example.toml's "data", "sessions", "logs" land here.
RUN useradd --system --uid 10001 --user-group --home-dir /srv/adbot --shell /usr/sbin/nologin adbot \
    && install -d -o adbot -g adbot -m 0700 /srv/adbot /srv/adbot/data /srv/adbot/sessions /srv/adbot/logs \
       /srv/adbot/backups
WORKDIR /srv/adbot
ENV ADBOT_CONFIG=/srv/adbot/config.toml \
    MPLCONFIGDIR=/tmp/matplotlib
VOLUME ["/srv/adbot/data", "/srv/adbot/sessions", "/srv/adbot/logs", "/srv/adbot/backups"]
USER adbot

# adbot health exits 0 (ok), 1 (degraded) or 2 (down); Docker reserves 2, so anything but 0 is "unhealthy".
# Its verdict line (stderr) shows in `docker inspect --format '{{json .State.Health}}' adbot`.
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 \
    CMD adbot health > /dev/null || exit 1

# SIGTERM: a graceful stop (in-flight sends finish). Give it the time: docker stop -t 60, or compose's
# stop_grace_period. Run with --init (compose: init: true) so signals reach it while it starts.
STOPSIGNAL SIGTERM
ENTRYPOINT ["adbot"]
CMD ["run"]

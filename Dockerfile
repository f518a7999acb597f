# Caretaker service image: `caretaker run` as a non-root user. Built by docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the package needs: no .env, no .venv, no local databases in the image.
COPY pyproject.toml README.md ./
COPY estate/ ./estate/
COPY ingest/ ./ingest/
COPY rules/ ./rules/
COPY dispatch/ ./dispatch/
COPY api/ ./api/
COPY simulators/ ./simulators/
COPY caretaker/ ./caretaker/
COPY examples/ ./examples/
RUN pip install . && rm -rf /src/build

# A system user with no shell and no login; /var/lib/caretaker is its writable working directory.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/caretaker --create-home \
        --shell /usr/sbin/nologin caretaker
USER caretaker
WORKDIR /var/lib/caretaker

EXPOSE 8000
CMD ["caretaker", "run"]

# ResourceMap web app and CLI. Build: docker build -t resourcemap .
# The same image runs `resourcemap migrate` (one-off) and `resourcemap serve`; see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Every dependency ships manylinux wheels (shapely, pyproj, numpy, asyncpg), so no compiler.
WORKDIR /src
COPY pyproject.toml README.md requirements.lock requirements-cluster.lock ./
COPY resourcemap ./resourcemap
COPY geo ./geo
COPY web ./web
# EXTRAS=cluster builds the production image of docker-compose.yml: the app with the Dask
# client and Redis, and the Dask scheduler and workers, all the same code, so tasks the app
# sends find the functions they name. Without it, the embedded default alone.
# Dependencies come from the hashed lock (tools/lock.py): a changed or substituted wheel
# fails the build. The project itself then installs without resolving anything.
ARG EXTRAS=""
RUN pip install --require-hashes -r "requirements${EXTRAS:+-$EXTRAS}.lock" \
    && pip install --no-deps ".${EXTRAS:+[$EXTRAS]}" \
    && rm -rf /src/build /src/*.egg-info

# Run as an unprivileged user. /data is its working directory, so the default SQLite URL
# (sqlite://resourcemap.sqlite3) lands there when no PostgreSQL is configured.
RUN useradd --system --uid 10001 --user-group --home-dir /data --create-home resourcemap
USER resourcemap
WORKDIR /data

# Production: the app refuses to start without RESOURCEMAP_SECRET_KEY and RESOURCEMAP_DATA_KEYS
# (it never generates secrets inside a container, where they would vanish with it).
ENV RESOURCEMAP_ENVIRONMENT=production
EXPOSE 8000
CMD ["resourcemap", "serve", "--host", "0.0.0.0"]

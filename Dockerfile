# One image for every Central process; the command picks the process:
#   central serve tenants | central serve gateway | central migrate | central worker --queue core
FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
# Dependencies first, so that a code change does not rebuild this layer.
RUN uv sync --locked --no-dev --no-install-project
COPY cli cli
COPY common common
COPY gen gen
COPY services services
COPY worker worker
RUN uv sync --locked --no-dev --no-editable

FROM python:3.11-slim
# /certs: the certs job writes into a volume mounted there, and a new volume takes its owner.
# Its own user and group, 10001: the compose file's secrets are readable by them alone.
RUN groupadd --system --gid 10001 central \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app central \
    && install -d -o central -g central -m 0700 /certs
COPY --from=build --chown=root:root /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH CENTRAL_LOG_FORMAT=json PYTHONUNBUFFERED=1
USER central
WORKDIR /app
ENTRYPOINT ["central"]

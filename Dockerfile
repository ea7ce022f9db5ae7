# syntax=docker/dockerfile:1
# Multi-stage: the builder installs the package into /opt/venv with the Makefile's own
# `install-prod` target; the runtime images copy that venv only (no compilers, no pip cache).
# `trainer` publishes a model once (the Makefile's `train-sample`); `api` (the default,
# last stage) serves it; `dashboard` runs the Streamlit dashboard against the api. Keep
# these steps the Makefile's, so CI exercises them.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
# Debian versions are not pinned: the archive drops old ones and the build would break.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install --no-install-recommends -y make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md Makefile ./
COPY training ./training
COPY service ./service
RUN make install-prod VENV=/opt/venv PYTHON=python3

FROM ${PYTHON_IMAGE} AS base
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SEG_MODELS_DIR=/models
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /models /data \
    && chown app:app /models

FROM base AS runtime
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app

# One-shot: publish a model into the models volume unless one is there already.
FROM runtime AS trainer
# Debian versions are not pinned: the archive drops old ones and the build would break.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install --no-install-recommends -y make \
    && rm -rf /var/lib/apt/lists/*
COPY Makefile ./
# The report draws with matplotlib, which wants a writable config folder (no home here).
ENV MPLCONFIGDIR=/tmp/matplotlib
USER 10001:10001
CMD ["make", "train-sample", "VENV=/opt/venv", "DATA=/data/sample_customers.csv", "MODELS=/models"]

# The same venv plus the dask extra, for the `dask` compose profile's scheduler, workers and
# trainer. Only this image carries Dask: `api` copies the builder's venv, without it.
FROM builder AS builder-dask
RUN /opt/venv/bin/python -m pip install --quiet --no-cache-dir '.[dask]'

FROM runtime AS dask
COPY --from=builder-dask /opt/venv /opt/venv
# The compose profile's `out` volume: a new named volume takes this folder's owner.
RUN mkdir -p /out && chown app:app /out
ENV MPLCONFIGDIR=/tmp/matplotlib
USER 10001:10001
CMD ["dask", "scheduler"]

# The dashboard (Streamlit, a client of the API): its own venv with the `dashboard` extra,
# so the api image below never carries Streamlit.
FROM builder AS dashboard-builder
COPY dashboard ./dashboard
RUN make install-dashboard VENV=/opt/venv PYTHON=python3

FROM base AS dashboard
COPY --from=dashboard-builder /opt/venv /opt/venv
WORKDIR /app
# Streamlit keeps a little state under $HOME (there is no home for uid 10001).
ENV HOME=/tmp \
    SEG_DASHBOARD_API_URL=http://api:8000
USER 10001:10001
EXPOSE 8501
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=2)"]
CMD ["segments", "dashboard", "--host", "0.0.0.0", "--port", "8501"]

FROM runtime AS api
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=2)"]
CMD ["segments", "serve", "--host", "0.0.0.0", "--port", "8000"]

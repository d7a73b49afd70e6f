# The engine image the Helm chart runs: `facilitation worker` and `facilitation tutors serve`.
# Not built in this repository's CI (no container runtime there): build it in yours with
#   docker build -t <registry>/openedx-facilitation:<version> .
FROM python:3.11-slim AS build
# The rules are compiled with mypyc (setup.py; replay 1.6-1.8x as fast): a C compiler
# here only. --build-arg FACILITATION_MYPYC=0 builds the pure-Python package instead.
ARG FACILITATION_MYPYC=1
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir 'setuptools>=77' 'mypy>=1.10'
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY rules ./rules
COPY stream_processors ./stream_processors
COPY xblocks ./xblocks
RUN FACILITATION_MYPYC=$FACILITATION_MYPYC \
    pip install --no-cache-dir --no-build-isolation --prefix=/install '.[engine,rocksdb]'

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PROMETHEUS_DISABLE_CREATED_SERIES=True
COPY --from=build /install /usr/local
# The UID/GID the chart's securityContext expects (runAsNonRoot, readOnlyRootFilesystem:
# state lives in the mounted /var/lib/facilitation, scratch in /tmp).
RUN groupadd --system --gid 10001 facilitation \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/facilitation facilitation \
    && mkdir -p /var/lib/facilitation && chown 10001:10001 /var/lib/facilitation
USER 10001:10001
WORKDIR /var/lib/facilitation
EXPOSE 6066 8077
ENTRYPOINT ["facilitation"]
CMD ["worker"]

# losscore HTTP service image (see docs/DEPLOY.md).
#
#   make web                                            # first: the playground page (npm, Java)
#   docker build -t losscore .                          # base python:3.11-slim, deps from PyPI
#   docker build --network=none \                       # offline, as CI does (.ci/steps/docker.sh)
#     --build-arg BASE_IMAGE=losscore-base:bookworm \
#     --build-arg WHEELHOUSE=.ci/docker/wheels -t losscore .
#
# Only Dockerfile instructions understood by the classic builder and by the
# BuildKit bundled with Debian's docker.io 20.10 are used (no `# syntax=` line,
# no heredocs, no RUN --mount), so the build needs no registry at all.

# Any image with Python >= 3.11 and the venv module: the official slim image, or
# Debian bookworm made with debootstrap (python3 + python3-venv, no `python`).
ARG BASE_IMAGE=python:3.11-slim

# ---------------------------------------------------------------- build stage
FROM ${BASE_IMAGE} AS build

# Interpreter of the base image used to create the venv (the venv has `python`).
ARG PYTHON=python3
# Directory in the build context holding wheels made by `pip download`. When it
# contains *.whl files, everything is installed from it with --no-index (offline
# build); when it is empty (the committed placeholder), pip uses PyPI.
ARG WHEELHOUSE=.ci/docker/wheels

ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_NO_INPUT=1 \
    PIP_ROOT_USER_ACTION=ignore \
    LANG=C.UTF-8

# Few steps on purpose: with the vfs storage driver every step is a full copy.
# 1. Dependencies only: this layer is reused until pyproject.toml, constraints.txt
#    or the wheelhouse change. setuptools (the build backend) is installed here
#    too, so the project can be built below without any index.
COPY ${WHEELHOUSE}/ /wheels/
COPY pyproject.toml constraints.txt .ci/docker/service_requirements.py /src/
RUN set -eu; \
    cd /src; \
    ${PYTHON} -m venv /opt/venv; \
    if ls /wheels/*.whl >/dev/null 2>&1; then \
        echo "pip: offline install from the wheelhouse ($(ls /wheels/*.whl | wc -l) wheels)"; \
        set -- --no-index --find-links /wheels; \
    else \
        echo "pip: no wheelhouse in the build context, installing from PyPI"; \
        set --; \
    fi; \
    /opt/venv/bin/python service_requirements.py pyproject.toml > requirements.txt; \
    /opt/venv/bin/python -m pip install "$@" -c constraints.txt -r requirements.txt "setuptools>=77"; \
    rm -rf /wheels

# 2. The project itself, not editable, with the same pins (all already satisfied,
#    so no index is needed); then remove pip, setuptools, the sources and what
#    .ci/docker/slim_venv.py finds unused at run time; the warm-up below then compiles
#    every numba kernel with the slimmed venv (llvmlite included), a check of its own.
COPY . /src/
RUN set -eu; \
    cd /src; \
    /opt/venv/bin/python -m pip install --no-index --no-build-isolation -c constraints.txt ".[service]"; \
    /opt/venv/bin/python -m pip check; \
    # the playground page and offline docs, built by `make web` before `docker build`
    ls /opt/venv/lib/python3*/site-packages/service/static/playground/index.html >/dev/null 2>&1 \
        || { echo "service/static is not built: run 'make web' before docker build" >&2; exit 1; }; \
    /opt/venv/bin/python -m pip uninstall --yes --quiet pip setuptools; \
    # what the service never reads at run time: bundled test suites, headers, Cython and C
    # sources, static libraries, type stubs, pyarrow's Flight and S3 libraries; shared
    # libraries cut after their last mapped byte (the build log shows what each rule saved)
    /opt/venv/bin/python .ci/docker/slim_venv.py /opt/venv --sstrip; \
    # the runtime image's system files: the interpreter, its standard library and the shared
    # libraries that it and the venv load (ldd); no package manager, shell or coreutils
    /opt/venv/bin/python .ci/docker/runtime_rootfs.py /opt/venv /rootfs --user 10001:losscore; \
    mkdir -m 0755 /data; \
    cd /; rm -rf /src; \
    # from / (not /src, which would shadow the installed package on sys.path): the import
    # check and the numba kernels compiled for their installed path
    /opt/venv/bin/python -c "import losscore, service; assert '/opt/venv/' in losscore.__file__"; \
    NUMBA_CACHE_DIR=/opt/venv/var/numba /opt/venv/bin/python -c "import losscore; losscore.warm_up()"

# -------------------------------------------------------------- runtime stage
# Nothing of the base image but what runtime_rootfs.py copied (its docstring lists it): the
# processes of this image are all `python` (uvicorn and its workers, Dask's scheduler and
# workers), so there is no shell; debug with `docker run --entrypoint python …`.
FROM scratch AS runtime

COPY --from=build /rootfs/ /
# the model store's volume, owned by the service's user (an empty named volume takes it)
COPY --from=build --chown=10001:10001 /data /data

# Only the virtual environment: dependencies, the installed app and the numba machine
# code compiled at build time (numba can only use a writable cache, so the service copies
# it into NUMBA_CACHE_DIR on /tmp at start-up: LOSSCORE_NUMBA_CACHE_SEED); no pip, no
# compilers, no wheel or build directories.
COPY --from=build /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NUMBA_CACHE_DIR=/tmp/numba-cache \
    LOSSCORE_NUMBA_CACHE_SEED=/opt/venv/var/numba \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=1 \
    LOG_LEVEL=info \
    LOSSCORE_DATA_DIR=/data \
    LOSSCORE_PROXY_HEADERS=true \
    LOSSCORE_FORWARDED_ALLOW_IPS=127.0.0.1

LABEL org.opencontainers.image.title="losscore" \
      org.opencontainers.image.description="Loss functions, norms and linear-model training over HTTP" \
      org.opencontainers.image.licenses="MIT"

USER 10001:10001
# The model store (SQLite under LOSSCORE_DATA_DIR).
VOLUME ["/data"]
EXPOSE 8000

# uvicorn runs as PID 1 (exec form, no shell): SIGTERM stops accepting
# connections, lets in-flight requests finish, runs the lifespan shutdown, exits 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]

CMD ["python", "-m", "service"]

#!/usr/bin/env bash
# Installs everything flask-k8s needs on a fresh Debian machine, and nothing twice:
# - uv and the locked development environment (.venv);
# - Pebble and the statsd exporter, built from the Go module proxy at pinned versions;
# - a stand-in for the rock's files under /opt/flask-k8s: the rock's Python with gunicorn and
#   the example apps' requirements (flask-k8s-app from this repository), the statsd exporter
#   and its mapping;
# - the rock's user, _daemon_;
# - PostgreSQL and Redis from Debian's packages, for the integration tests (which start
#   their own throwaway servers: the system services are not started).
# - Prometheus (with promtool) from Debian's package, for the observability tests (which run
#   /usr/bin/prometheus themselves: the system service is not started either).
# - the empty mount points /flask and /var/lib/flask-k8s, where scripts/hermetic.sh mounts a
#   fresh tmpfs for every test run.
# Must run as root, like Pebble in a workload container.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=${FLASK_K8S_PREFIX:-/opt/flask-k8s}
PEBBLE_VERSION=v1.32.1
STATSD_EXPORTER_VERSION=v0.26.0
GUNICORN="gunicorn~=23.0"
export PATH="$PATH:/usr/local/go/bin:$HOME/.local/bin"
export UV_PYTHON_DOWNLOADS=never

if [ "$(id -u)" != 0 ]; then
    echo "setup: run as root (Pebble runs services as _daemon_)" >&2
    exit 1
fi

log() { echo "setup: $*"; }

# uv from PyPI, run as a module so that it needs nothing on PATH.
if ! python3 -m uv --version >/dev/null 2>&1; then
    log "installing uv"
    python3 -m pip install --quiet --disable-pip-version-check uv
fi
uv() { python3 -m uv "$@"; }

# Debian's servers, installed only when missing. Their packages would start the system
# services; a policy-rc.d that refuses keeps them stopped (one already there is kept).
apt_missing=()
command -v redis-server >/dev/null || apt_missing+=(redis-server)
{ command -v promtool && command -v prometheus; } >/dev/null || apt_missing+=(prometheus)
if ! dpkg-query -W -f='${Status}' postgresql 2>/dev/null | grep -q "install ok installed" ||
    ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    apt_missing+=(postgresql)
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
    log "installing ${apt_missing[*]} from Debian's packages"
    policy=/usr/sbin/policy-rc.d
    own_policy=
    if [ ! -e "$policy" ]; then
        own_policy=1
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${apt_missing[@]}" >/dev/null
    if [ -n "$own_policy" ]; then
        rm -f "$policy"
        trap - EXIT
    fi
fi

log "syncing the development environment"
uv sync --frozen --quiet

# go install can't be used: it asks the proxy for the module's version list, which this
# network refuses; a throwaway module that pins the version builds the same binary.
build_go_tool() {
    local version=$1 package=$2 out=$3
    local stamp="$out.$version"
    if [ -x "$out" ] && [ -e "$stamp" ]; then
        return
    fi
    log "building $package@$version"
    local work
    work=$(mktemp -d)
    (
        cd "$work"
        go mod init flask-k8s-tools >/dev/null 2>&1
        go get "$package@$version" >/dev/null 2>&1
        CGO_ENABLED=0 go build -o "$out" "$package"
    )
    rm -rf "$work"
    rm -f "$out".v*
    touch "$stamp"
}

mkdir -p "$PREFIX/bin" "$PREFIX/rock/bin"
build_go_tool "$PEBBLE_VERSION" \
    github.com/canonical/pebble/cmd/pebble "$PREFIX/bin/pebble"
build_go_tool "$STATSD_EXPORTER_VERSION" \
    github.com/prometheus/statsd_exporter "$PREFIX/rock/bin/statsd_exporter"

if ! getent passwd _daemon_ >/dev/null; then
    log "creating the rock's user _daemon_"
    useradd --system --uid 584792 --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin _daemon_
fi

if [ ! -x "$PREFIX/rock/bin/python3" ]; then
    log "creating the rock's Python environment"
    # The system Python, so that _daemon_ can run it (pyenv's lives under /root).
    uv venv --quiet --allow-existing --python /usr/bin/python3 "$PREFIX/rock"
fi
# flask-k8s-app, which the examples require, is this repository's own package (not on PyPI
# yet): the path stands in for it, rebuilt every time so the rock has the code as it is.
uv pip install --quiet --python "$PREFIX/rock/bin/python3" \
    -r examples/flask-app/requirements.txt -r examples/flask-factory-app/requirements.txt \
    "$GUNICORN" \
    ./flask-k8s-app --reinstall-package flask-k8s-app
install -m 0644 scripts/rock/statsd-mapping.conf "$PREFIX/rock/statsd-mapping.conf"
# Mount points only: the tests run under scripts/hermetic.sh, which mounts an empty tmpfs on
# each, so nothing an earlier run left in them is seen.
mkdir -p /flask /var/lib/flask-k8s
chmod -R a+rX "$PREFIX"
log "done"

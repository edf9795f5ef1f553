#!/usr/bin/env bash
# Runs a command as a newcomer's machine would: in a private mount namespace where /flask (the
# rock's files), /var/lib/flask-k8s (the charm's records) and /dev/shm (the app's settings
# file) are empty tmpfs mounts.
# Whatever earlier runs left there is out of sight, and whatever this run writes there is gone
# when it ends, so no test can lean on a file that only an earlier run or `make run` made.
# The mount points themselves are made by scripts/setup.sh.
set -euo pipefail

# Not /tmp: the checkout itself may live there (CI clones anywhere); tests use their own
# temporary directories under it.
DIRS=(/flask /var/lib/flask-k8s)

if [ "${FLASK_K8S_HERMETIC:-}" != 1 ]; then
    for dir in "${DIRS[@]}"; do
        if [ ! -d "$dir" ]; then
            echo "hermetic: $dir is missing; run make setup" >&2
            exit 1
        fi
    done
    exec unshare --mount --propagation private env FLASK_K8S_HERMETIC=1 "$0" "$@"
fi

for dir in "${DIRS[@]}"; do
    mount -t tmpfs -o mode=0755 flask-k8s-hermetic "$dir"
done
# The app's settings file lives on the container's /dev/shm; every user may write there.
mount -t tmpfs -o mode=1777 flask-k8s-hermetic /dev/shm
exec "$@"

#!/usr/bin/env bash
# Creates .venv with the real clients the mock tests drive (python-openstackclient 9.0.0 and
# python-magnumclient 4.8.1, the pair the Jetstream2 tutorials use; python-heatclient 4.3.0, of
# the same release, for `openstack stack ...`; and the Kubernetes Python client). Idempotent:
# does nothing when the pinned versions are already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

PINS=(python-openstackclient==9.0.0 python-magnumclient==4.8.1 python-heatclient==4.3.0 kubernetes==37.0.2)

if [ -x .venv/bin/openstack ] \
    && .venv/bin/python -m pip show python-openstackclient 2>/dev/null | grep -qx 'Version: 9.0.0' \
    && .venv/bin/python -m pip show python-magnumclient 2>/dev/null | grep -qx 'Version: 4.8.1' \
    && .venv/bin/python -m pip show python-heatclient 2>/dev/null | grep -qx 'Version: 4.3.0' \
    && .venv/bin/python -m pip show kubernetes 2>/dev/null | grep -qx 'Version: 37.0.2'; then
    exit 0
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check "${PINS[@]}"

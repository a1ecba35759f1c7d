#!/bin/sh
# The image's install step, also run by tests/deploy/test_image_install.py in a fresh venv.
#   install.sh deps PREFIX   a venv at PREFIX with the runtime lock, nothing else
#   install.sh app PREFIX    the ledger itself, no dependency re-resolved
# Run from a folder holding requirements-runtime.lock, pyproject.toml, README.md and the
# packages (service, events, projections).
set -eu
step=$1
prefix=$2
case "$step" in
  deps)
    python3 -m venv "$prefix"
    "$prefix/bin/python" -m pip install --disable-pip-version-check --quiet \
      -r requirements-runtime.lock
    ;;
  app)
    "$prefix/bin/python" -m pip install --disable-pip-version-check --quiet \
      --no-deps .
    ;;
  *)
    echo "usage: install.sh deps|app PREFIX" >&2
    exit 2
    ;;
esac

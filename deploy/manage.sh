#!/bin/sh
# manage.py as the service user, with the services' environment, on a machine with or
# without systemd:  deploy/manage.sh migrate --noinput
# Run it as root: it reads the environment file (readable by root only), then drops to
# CONTINUUM_USER (default continuum) in the checkout this script belongs to.
set -eu
env_file="${CONTINUUM_ENV:-/etc/continuum/env}"
user="${CONTINUUM_USER:-continuum}"
set -a
. "$env_file"
set +a
cd "$(dirname "$0")/.."
if [ "$(id -un)" = "$user" ]; then
  exec .venv/bin/python manage.py "$@"
fi
exec runuser -u "$user" -- .venv/bin/python manage.py "$@"

#!/bin/sh
# Restart the web processes on this machine one at a time without failing a request:
#   deploy/rolling-restart.sh 8001 8002
# For each port: mark it "down" in nginx's upstream and reload nginx (new requests go to
# the others; nginx's connections to it close once their requests finish), wait, restart
# the process, wait until its /healthz answers, put it back. A request is never sent to a
# process that is stopping, so no POST is cut off (nginx does not resend a POST).
#   NGINX_SITE     the site file with the upstream (/etc/nginx/sites-available/continuum)
#   NGINX_RELOAD   how to reload nginx (systemctl reload nginx)
#   RESTART        how to restart one port's process, %s for the port
#                  (systemctl restart continuum-web@%s)
#   HEALTH_HOST    the Host header /healthz is asked with (the first of ALLOWED_HOSTS)
#   DRAIN_SECONDS  how long requests in flight get before the restart (5)
set -eu
site="${NGINX_SITE:-/etc/nginx/sites-available/continuum}"
reload="${NGINX_RELOAD:-systemctl reload nginx}"
restart="${RESTART:-systemctl restart continuum-web@%s}"
host="${HEALTH_HOST:-${ALLOWED_HOSTS%%,*}}"
drain="${DRAIN_SECONDS:-5}"

mark() {  # mark PORT down|up
  if [ "$2" = down ]; then
    sed -i "s/^\([[:space:]]*server 127\.0\.0\.1:$1\)\([[:space:];]\)/\1 down\2/" "$site"
  else
    sed -i "s/^\([[:space:]]*server 127\.0\.0\.1:$1\) down/\1/" "$site"
  fi
  $reload
}

for port in "$@"; do
  grep -q "server 127\.0\.0\.1:$port[[:space:];]" "$site" || { echo "no upstream 127.0.0.1:$port in $site" >&2; exit 1; }
  mark "$port" down
  trap 'mark "$port" up' EXIT
  sleep "$drain"
  # shellcheck disable=SC2059
  sh -c "$(printf "$restart" "$port")"
  tries=0
  until curl -fs -o /dev/null -H "Host: $host" -H 'X-Forwarded-Proto: https' \
      "http://127.0.0.1:$port/healthz"; do
    tries=$((tries + 1))
    [ "$tries" -lt 120 ] || { echo "127.0.0.1:$port did not answer /healthz" >&2; exit 1; }
    sleep 1
  done
  mark "$port" up
  trap - EXIT
  echo "127.0.0.1:$port restarted"
done

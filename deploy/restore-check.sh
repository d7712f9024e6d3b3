#!/usr/bin/env bash
# Restore a Continuum dump into a new, empty database and compare it with the live one:
#   deploy/restore-check.sh DUMP [SCRATCH_DATABASE]      (DUMP "-": read standard input)
# Needs DATABASE_URL (the live database, read only here) and a PostgreSQL role that may
# create databases (RESTORE_ADMIN_URL, default: the local postgres superuser). It
# restores DUMP into SCRATCH_DATABASE (default continuum_restore_check; dropped first if
# it exists, and afterwards unless KEEP=1), then prints each table's row count in the
# restored and in the live database, and checks that the restored schema is the one the
# code expects (manage.py migrate --check). Rows written after the dump was taken show
# as differences; on a quiet database (or against the counts recorded at dump time) the
# two columns are equal. Exit status 1 when the restore or the schema check fails.
set -euo pipefail

dump="${1:?usage: restore-check.sh DUMP [SCRATCH_DATABASE]}"
scratch="${2:-continuum_restore_check}"
admin="${RESTORE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
: "${DATABASE_URL:?DATABASE_URL must be set (the live database)}"
scratch_url="${admin%/*}/$scratch"
here="$(cd "$(dirname "$0")/.." && pwd)"

psql -q -X -v ON_ERROR_STOP=1 -d "$admin" -c "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)"
psql -q -X -v ON_ERROR_STOP=1 -d "$admin" -c "CREATE DATABASE \"$scratch\""
cleanup() {
  [ "${KEEP:-0}" = 1 ] || psql -q -X -d "$admin" -c "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)" >/dev/null
}
trap cleanup EXIT

started=$(date +%s)
# "-": the dump on standard input (root opens a file only its owner may read).
if [ "$dump" = - ]; then set --; else set -- "$dump"; fi
pg_restore --exit-on-error --no-owner --no-privileges --dbname="$scratch_url" "$@"
echo "restored ${1:-standard input} into $scratch in $(( $(date +%s) - started )) s"

# Exact row counts of every table of the public schema, one "table count" line each.
counts() {
  psql -X -At -v ON_ERROR_STOP=1 -d "$1" -c "
    SELECT format('SELECT %L || '' '' || count(*) FROM %I.%I;', table_name, table_schema, table_name)
    FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name" |
    psql -X -At -v ON_ERROR_STOP=1 -d "$1" | sort
}
restored="$(counts "$scratch_url")"
live="$(counts "$DATABASE_URL")"
[ -n "$restored" ] || { echo "restore-check: the restored database has no tables" >&2; exit 1; }
join -a1 -a2 -e missing -o 0,1.2,2.2 <(echo "$restored") <(echo "$live") |
  awk 'BEGIN { printf "%-45s %12s %12s\n", "table", "restored", "live" }
       { flag = ($2 == $3) ? "" : "  differs"; total += $2;
         printf "%-45s %12s %12s%s\n", $1, $2, $3, flag; if (flag != "") diff++ }
       END { printf "%d tables, %d rows restored, %d differ from the live database\n", NR, total, diff }'

(cd "$here" && DATABASE_URL="$scratch_url" "${PYTHON:-.venv/bin/python}" manage.py migrate --check >/dev/null)
echo "schema: every migration of this code is applied in the restored database"

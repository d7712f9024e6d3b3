#!/usr/bin/env bash
# Continuum database backup: one pg_dump of DATABASE_URL into BACKUP_DIR, checked and
# kept for BACKUP_KEEP_DAYS days. continuum-backup.timer runs it daily through
# continuum-backup.service (which reads /etc/continuum/env); by hand:
#   set -a; . /etc/continuum/env; set +a; deploy/backup.sh
# The dump is PostgreSQL's custom format (compressed, restorable table by table with
# pg_restore). It holds everything the database holds, answers and email addresses
# included: keep BACKUP_DIR, and any copy of it elsewhere, as private as the database.
set -euo pipefail
umask 077

: "${DATABASE_URL:?DATABASE_URL must be set, as for the app}"
dir="${BACKUP_DIR:-/var/lib/continuum/backups}"
keep_days="${BACKUP_KEEP_DAYS:-14}"
mkdir -p "$dir"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
final="$dir/continuum-$stamp.dump"
partial="$final.partial"
trap 'rm -f "$partial"' EXIT

# One consistent snapshot; the app keeps running while it is taken.
pg_dump --format=custom --no-owner --no-privileges --dbname="$DATABASE_URL" --file="$partial"
# A dump pg_restore cannot read is no backup: fail now rather than on the day it is needed.
pg_restore --list "$partial" >/dev/null
mv "$partial" "$final"
trap - EXIT

find "$dir" -maxdepth 1 -name 'continuum-*.dump' -mtime "+$keep_days" -delete
echo "backup: $final ($(du -h "$final" | cut -f1))"

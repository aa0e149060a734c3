#!/usr/bin/env bash
# Restores a dump written by scripts/backup.sh into a target database with pg_restore.
# Refuses a target that already holds tables unless --force is given (then the dumped
# objects are dropped and recreated). See docs/runbooks/disaster_recovery.md.
#
#   scripts/restore.sh BACKUP_FILE TARGET_DATABASE_URL
#   scripts/restore.sh --force BACKUP_FILE TARGET_DATABASE_URL
#
# The target database must exist (createdb / CREATE DATABASE). The restore runs in one
# transaction: it either completes or leaves the target as it was.
set -euo pipefail

usage() {
  cat >&2 <<USAGE
usage: $(basename "$0") [--force] BACKUP_FILE TARGET_DATABASE_URL

Restores BACKUP_FILE (pg_dump -Fc, as written by scripts/backup.sh) into the existing
database TARGET_DATABASE_URL, in a single transaction.

  --force      restore into a non-empty database: drop the dumped objects first
               (pg_restore --clean --if-exists). Tables that are not in the dump stay.
  -h, --help   this help
USAGE
}

force=0
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; positional+=("$@"); break ;;
    -*) echo "restore: unknown option $1" >&2; usage; exit 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
if [ ${#positional[@]} -ne 2 ]; then
  echo "restore: expected BACKUP_FILE and TARGET_DATABASE_URL" >&2
  usage
  exit 2
fi
backup="${positional[0]}"
target="${positional[1]}"

[ -f "$backup" ] || { echo "restore: backup file $backup not found" >&2; exit 2; }
for tool in pg_restore psql; do
  command -v "$tool" >/dev/null 2>&1 || { echo "restore: $tool not found (apt-get install postgresql-client)" >&2; exit 3; }
done
pg_restore --list "$backup" >/dev/null 2>&1 || { echo "restore: $backup is not a pg_dump custom-format archive" >&2; exit 2; }

redacted="$(printf '%s' "$target" | sed -E 's#//([^:/@]+):[^@]*@#//\1:***@#')"
tables="$(psql "$target" -X -q -t -A -v ON_ERROR_STOP=1 -c \
  "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")"
if [ "$tables" != "0" ] && [ "$force" -ne 1 ]; then
  echo "restore: refusing to restore into $redacted: it already has $tables table(s)." >&2
  echo "restore: restore into a fresh database (createdb), or pass --force to replace the dumped objects." >&2
  exit 1
fi

args=(--no-owner --no-privileges --single-transaction --exit-on-error)
[ "$force" -ne 1 ] || args+=(--clean --if-exists)

echo "restore: restoring $backup into $redacted" >&2
pg_restore "${args[@]}" --dbname="$target" "$backup"
echo "restore: done" >&2

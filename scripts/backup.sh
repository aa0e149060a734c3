#!/usr/bin/env bash
# Backs up the SOVD database: pg_dump in custom format (-Fc: compressed, restorable table
# by table with pg_restore). See docs/runbooks/disaster_recovery.md.
#
#   DATABASE_URL=postgres://... scripts/backup.sh [OUTPUT_FILE]
#   scripts/backup.sh --url postgres://... [OUTPUT_FILE]
#
# OUTPUT_FILE defaults to backups/sovd-<UTC timestamp>.dump. The file is written under a
# temporary name and renamed when pg_dump succeeded, so a file with the final name is
# always a complete dump. Prints the path of the dump on stdout.
set -euo pipefail

usage() {
  cat >&2 <<USAGE
usage: $(basename "$0") [--url DATABASE_URL] [--schema SCHEMA] [OUTPUT_FILE]

Writes a pg_dump custom-format (-Fc) backup of the database to OUTPUT_FILE
(default: backups/sovd-YYYYMMDDTHHMMSSZ.dump).

  --url URL        database to back up (default: \$DATABASE_URL)
  --schema SCHEMA  only this schema (default: the whole database)
  -h, --help       this help
USAGE
}

url="${DATABASE_URL:-}"
schema=""
output=""
while [ $# -gt 0 ]; do
  case "$1" in
    --url) [ $# -ge 2 ] || { usage; exit 2; }; url="$2"; shift 2 ;;
    --schema) [ $# -ge 2 ] || { usage; exit 2; }; schema="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "backup: unknown option $1" >&2; usage; exit 2 ;;
    *) [ -z "$output" ] || { echo "backup: more than one output file given" >&2; usage; exit 2; }; output="$1"; shift ;;
  esac
done

if [ -z "$url" ]; then
  echo "backup: no database given: set DATABASE_URL or pass --url" >&2
  usage
  exit 2
fi
command -v pg_dump >/dev/null 2>&1 || { echo "backup: pg_dump not found (apt-get install postgresql-client)" >&2; exit 3; }

if [ -z "$output" ]; then
  output="backups/sovd-$(date -u +%Y%m%dT%H%M%SZ).dump"
fi
mkdir -p "$(dirname "$output")"
tmp="$output.partial.$$"
trap 'rm -f "$tmp"' EXIT

args=(--format=custom --no-owner --no-privileges --file="$tmp")
[ -z "$schema" ] || args+=(--schema="$schema")

echo "backup: dumping $(printf '%s' "$url" | sed -E 's#//([^:/@]+):[^@]*@#//\1:***@#') to $output" >&2
pg_dump "${args[@]}" --dbname="$url"
mv "$tmp" "$output"
trap - EXIT
echo "backup: done ($(wc -c <"$output" | tr -d ' ') bytes)" >&2
printf '%s\n' "$output"

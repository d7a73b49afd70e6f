# `do facilitation-backfill`: the LMS tracking log into Kafka, oldest file first.
# Set before this script: logs=FOLDER, files="NAME ..." (empty: every tracking.log*),
# dry_run="--dry-run" or "".
if [ ! -d "$logs" ]; then
  echo "No LMS log folder at $logs in this job (Kubernetes?): see docs/operations.md" >&2
  exit 1
fi
cd "$logs"
[ -n "$files" ] || files=$(ls -1tr tracking.log* 2>/dev/null || true)
if [ -z "$files" ]; then
  echo "No tracking.log* in $logs" >&2
  exit 1
fi
exec facilitation ingest tracking-log --quiet $dry_run $files

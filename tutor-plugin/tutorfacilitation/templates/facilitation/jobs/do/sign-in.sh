# `do facilitation-sign-in`: a token per tutor ($tutors, else every tutor of the roster).
# Set before this script: tutors="ID ...", lead="--lead" or "".
if [ -z "$tutors" ]; then
  if [ -z "${FACILITATION_ROSTER_PATH:-}" ]; then
    echo "No roster loaded (tutor facilitation roster load FILE): name tutors with --tutor" >&2
    exit 1
  fi
  tutors=$(facilitation tutors check --json "$FACILITATION_ROSTER_PATH" | python -c \
    'import json, sys; print(" ".join(t["id"] for t in json.load(sys.stdin)["tutors"]))')
fi
echo "Tutor page: $FACILITATION_TUTOR_PAGE_URL (sign in with the token; each is shown once)"
for tutor in $tutors; do
  echo "  $tutor $(facilitation tutors token --tutor "$tutor" $lead 2>/dev/null)"
done

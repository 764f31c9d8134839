#!/usr/bin/env bash
# IDM stand-in (test double) of PingIDM 8.1: launcher with the interface of PingIDM's startup.sh.
#   startup.sh [-p|--project-location DIR] [-w|--working-location DIR]
# Environment: OPENIDM_HOME (default: this directory), OPENIDM_OPTS (default -Xmx1024m -Xms1024m;
# -Dkey=value entries override resolver/boot.properties), OPENIDM_PID_FILE
# (default $OPENIDM_HOME/.openidm.pid). Runs in the foreground (systemd Type=simple).
set -u

if [ -z "${OPENIDM_HOME:-}" ]; then
  OPENIDM_HOME=$(cd "$(dirname "$0")" >/dev/null && pwd -P)
fi
PROJECT_HOME=$OPENIDM_HOME
WORKING_HOME=$OPENIDM_HOME

absolute_dir() {
  if [ ! -d "$1" ]; then
    echo "startup.sh: directory $1 does not exist" >&2
    exit 2
  fi
  (cd "$1" >/dev/null && pwd -P)
}

while [ $# -gt 0 ]; do
  case "$1" in
    -p|--project-location)
      [ $# -ge 2 ] || { echo "startup.sh: $1 needs a directory" >&2; exit 2; }
      PROJECT_HOME=$(absolute_dir "$2") || exit 2; shift 2 ;;
    -w|--working-location)
      [ $# -ge 2 ] || { echo "startup.sh: $1 needs a directory" >&2; exit 2; }
      WORKING_HOME=$(absolute_dir "$2") || exit 2; shift 2 ;;
    *) shift ;;  # other launcher options are accepted and ignored
  esac
done

if [ -z "${OPENIDM_OPTS:-}" ]; then
  OPENIDM_OPTS="-Xmx1024m -Xms1024m"
fi
export OPENIDM_OPTS OPENIDM_HOME

OPENIDM_PID_FILE=${OPENIDM_PID_FILE:-$OPENIDM_HOME/.openidm.pid}
if [ -f "$OPENIDM_PID_FILE" ]; then
  old_pid=$(cat "$OPENIDM_PID_FILE" 2>/dev/null)
  if [ -n "$old_pid" ] && [ "$old_pid" != "$$" ] && kill -0 "$old_pid" 2>/dev/null \
     && grep -qa idm_standin "/proc/$old_pid/cmdline" 2>/dev/null; then
    echo "OpenIDM is already running (PID $old_pid, $OPENIDM_PID_FILE)" >&2
    exit 1
  fi
fi

if [ -f "$PROJECT_HOME/resolver/boot.properties" ]; then
  BOOT_PROPERTIES=$PROJECT_HOME/resolver/boot.properties
else
  BOOT_PROPERTIES=$OPENIDM_HOME/resolver/boot.properties
fi

# Passwords given as -D options are not echoed.
shown_opts=$(printf '%s\n' "$OPENIDM_OPTS" | sed -E 's/(-D[^ =]*[Pp]assword[^ =]*=)[^ ]*/\1****/g')
echo "Executing $0..."
echo "Using OPENIDM_HOME:   $OPENIDM_HOME"
echo "Using PROJECT_HOME:   $PROJECT_HOME"
echo "Using OPENIDM_OPTS:   $shown_opts"
echo "Using boot properties at $BOOT_PROPERTIES"
echo "(IDM stand-in: a test double of PingIDM 8.1, not the product)"

echo $$ > "$OPENIDM_PID_FILE" || { echo "startup.sh: cannot write $OPENIDM_PID_FILE" >&2; exit 1; }

cd "$OPENIDM_HOME" || exit 1
export PYTHONPATH="$OPENIDM_HOME/bin${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
exec python3 -B -m idm_standin --home "$OPENIDM_HOME" --project "$PROJECT_HOME" \
  --working "$WORKING_HOME" --boot "$BOOT_PROPERTIES" --pid-file "$OPENIDM_PID_FILE"

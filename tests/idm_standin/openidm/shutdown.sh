#!/usr/bin/env bash
# IDM stand-in (test double) of PingIDM 8.1: stops the instance started by startup.sh.
# Sends SIGTERM to the PID in $OPENIDM_PID_FILE (default $OPENIDM_HOME/.openidm.pid) and waits up
# to 30 s for it to exit. Exit 0 when it stopped or was not running, 1 when it did not stop.
set -u

if [ -z "${OPENIDM_HOME:-}" ]; then
  OPENIDM_HOME=$(cd "$(dirname "$0")" >/dev/null && pwd -P)
fi
OPENIDM_PID_FILE=${OPENIDM_PID_FILE:-$OPENIDM_HOME/.openidm.pid}
TIMEOUT_SECONDS=30

is_running() {
  # A zombie or a recycled PID has no idm_standin command line.
  kill -0 "$1" 2>/dev/null && grep -qa idm_standin "/proc/$1/cmdline" 2>/dev/null
}

if [ ! -f "$OPENIDM_PID_FILE" ]; then
  echo "OpenIDM is not running (no PID file $OPENIDM_PID_FILE)"
  exit 0
fi
pid=$(cat "$OPENIDM_PID_FILE" 2>/dev/null)
if [ -z "$pid" ] || ! is_running "$pid"; then
  echo "OpenIDM is not running (stale PID file $OPENIDM_PID_FILE)"
  rm -f "$OPENIDM_PID_FILE"
  exit 0
fi

echo "Stopping OpenIDM (PID $pid)"
kill -TERM "$pid" 2>/dev/null
waited=0
while is_running "$pid"; do
  if [ "$waited" -ge $((TIMEOUT_SECONDS * 10)) ]; then
    echo "OpenIDM (PID $pid) did not stop within $TIMEOUT_SECONDS s" >&2
    exit 1
  fi
  sleep 0.1
  waited=$((waited + 1))
done
rm -f "$OPENIDM_PID_FILE"
echo "OpenIDM stopped"
exit 0

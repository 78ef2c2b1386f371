#!/usr/bin/env bash
# npm run stack:down — stops only what `npm run stack:up` started: the Temporal dev server (its pid file in
# .stack/), and MariaDB/MySQL or Mosquitto only when .stack/ records that stack-up started them. Services that
# were already running before stack-up are left alone. Idempotent. The Temporal state (.stack/temporal.db) is
# kept; delete it by hand for a clean slate.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
exec </dev/null

# stop_pid NAME PID [GROUP]: TERM (to the process group when GROUP=group), wait up to 20 s, then KILL.
stop_pid() {
  local name="$1" pid="$2" group="${3:-}" target="$2"
  [[ "$group" == group ]] && target="-$pid"
  kill -TERM -- "$target" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      warn "$name (pid $pid) did not stop within 20s; sending KILL"
      kill -KILL -- "$target" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.3
  done
}

temporal_down() {
  local pidfile="$STACK_DIR/temporal.pid" pid
  if pid_alive "$pidfile" "server start-dev"; then
    pid="$(cat "$pidfile")"
    # setsid made it a process-group leader: signal the whole group.
    stop_pid "Temporal dev server" "$pid" group
    rm -f "$pidfile"
    log "Temporal   stopped the dev server (pid $pid); its state stays in $STACK_DIR/temporal.db"
  else
    rm -f "$pidfile"
    log "Temporal   not started by stack-up: nothing to stop"
  fi
}

mysql_down() {
  local marker="$STACK_DIR/mysql.started" pidfile="$STACK_DIR/mysql.pid" pid
  if [[ ! -f "$marker" ]]; then
    log "MySQL      not started by stack-up: nothing to stop"
    return 0
  fi
  if pid_alive "$pidfile" "$(cat "$marker")"; then
    pid="$(cat "$pidfile")"
    # mariadbd shuts down cleanly on TERM (InnoDB flush); allow it time.
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      warn "MySQL (pid $pid) did not stop within 60s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "MySQL      stopped $(cat "$marker") (pid $pid), which stack-up had started"
  else
    log "MySQL      the server stack-up had started is no longer running"
  fi
  rm -f "$marker" "$pidfile"
}

mosquitto_down() {
  local marker="$STACK_DIR/mosquitto.started" pidfile pid
  if [[ ! -f "$marker" ]]; then
    log "Mosquitto  not started by stack-up: nothing to stop"
    return 0
  fi
  pidfile="$(cat "$marker")"
  if [[ -n "$pidfile" ]] && pid_alive "$pidfile" mosquitto; then
    pid="$(cat "$pidfile")"
    stop_pid "Mosquitto" "$pid"
    log "Mosquitto  stopped (pid $pid), which stack-up had started"
  else
    log "Mosquitto  the broker stack-up had started is no longer running"
  fi
  [[ "$pidfile" == "$STACK_DIR/"* ]] && rm -f "$pidfile"
  rm -f "$marker"
}

temporal_down
mosquitto_down
mysql_down
log "stack is down (only what stack-up had started was stopped)"

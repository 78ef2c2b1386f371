#!/usr/bin/env bash
# npm run demo — the whole story on this machine, from a fresh clone:
#   1. npm ci when node_modules is missing; the local stack (scripts/stack-up.sh: MariaDB, Mosquitto, Temporal
#      dev server with its Web UI); the build;
#   2. a demo database (ocpp_demo) with a small fleet: missing points, a gap, surplus points, an undashed
#      station_id, soft-deleted rows, unknown devices, a device sending garbage (tools/demo/demo-fleet.ts);
#      and the tool's own tables, by `cp-sync migrate`, in ocpp_demo_cp_sync;
#   3. a station simulator publishing the fleet's counts over MQTT and a worker, both in the background
#      (logs: .stack/demo-simulator.log, .stack/demo-worker.log), stopped whenever this script ends;
#   4. `cp-sync run`: an 8 s collection window, the plan, the approval (asked y/N on a terminal, given with
#      --yes when stdin is not a terminal), the apply and the report;
#   5. the worker's log lines that operators grep for, the demo database's charging_points checked against the
#      fleet, and the Web UI link of the run.
# Exit status: cp-sync run's (0 success; see `cp-sync --help`), or 1 when it succeeded but the rows in ocpp_demo
# are not the ones the fleet implies. The Temporal dev server keeps running so the link works (npm run stack:down).
# Interrupted (Ctrl-C, or Ctrl-C at the prompt), it rejects the unfinished run, so that it never writes, and
# lets the worker end it before stopping it. Running it again reseeds the database: the demo is repeatable.
#
# Local only, on purpose: .env is not read (its production settings must not leak into a demo), and the
# service addresses are the local stack's. OCPP_MYSQL_PORT, OCPP_MYSQL_USER (default root),
# OCPP_MYSQL_PASSWORD and LOG_LEVEL may be set in the environment for a local MySQL that needs them.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

say() { printf '[demo] %s\n' "$*"; }
step() { printf '\n[demo] ==> %s\n' "$*"; }

WORKER_LOG="$STACK_DIR/demo-worker.log"
SIMULATOR_LOG="$STACK_DIR/demo-simulator.log"
RUN_LOG="$STACK_DIR/demo-run.log"
WORKER_PID=""
SIMULATOR_PID=""
RUN_ID=""
RUN_DONE=0

# ------------------------------------------------------------------------------------------ demo environment
# Exported before stack-up, so that it checks the same services the demo uses. Variables set to an empty
# value count as set for dotenv, which keeps a developer's .env out of the worker and the CLI.
export OCPP_MYSQL_HOST=127.0.0.1
export OCPP_MYSQL_PORT="${OCPP_MYSQL_PORT:-3306}"
if [[ -z "${OCPP_MYSQL_USER:-}" ]]; then
  export OCPP_MYSQL_USER=root
  export OCPP_MYSQL_PASSWORD="${OCPP_MYSQL_PASSWORD:-}"
else
  export OCPP_MYSQL_USER OCPP_MYSQL_PASSWORD="${OCPP_MYSQL_PASSWORD:-}"
fi
export OCPP_MYSQL_DATABASE=ocpp_demo CP_SYNC_DATABASE=ocpp_demo_cp_sync
export CLOUD_HOST=mqtt://127.0.0.1:1883 CLOUD_CREDENTIALS=''
export TEMPORAL_ADDRESS=127.0.0.1:7233 TEMPORAL_NAMESPACE=default TEMPORAL_UI_URL=http://127.0.0.1:8233
export TEMPORAL_API_KEY='' TEMPORAL_TLS=false TEMPORAL_TLS_CERT_PATH='' TEMPORAL_TLS_KEY_PATH='' TEMPORAL_TLS_CA_PATH='' TEMPORAL_TLS_SERVER_NAME=''
export TEMPORAL_TASK_QUEUE=charging-points-sync-demo
export COLLECTOR_DURATION=8000 APPROVAL_TIMEOUT=30m MAX_CONNECTORS=16 TEST_DEVICE_ID=''
export LOG_LEVEL="${LOG_LEVEL:-info}"

# -------------------------------------------------------------------------------------------------- cleanup
# stop_background NAME PID: TERM, up to 15 s for a clean shutdown, then KILL.
stop_background() {
  local name="$1" pid="$2" deadline
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 15))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      printf '[demo] %s (pid %s) did not stop within 15 s; killing it\n' "$name" "$pid" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  wait "$pid" 2>/dev/null || true
}

# reject_unfinished_run: a run that cp-sync did not see to its end (interrupted, Ctrl-C at the prompt) is
# rejected, so that it never writes and does not wait for an approval that will not come.
reject_unfinished_run() {
  [[ -n "$RUN_ID" ]] || return 0
  RUN_DONE=1
  if timeout 20 node dist/cli/main.js reject "$RUN_ID" --reason 'npm run demo was interrupted' --by demo >/dev/null 2>&1; then
    printf '\n'
    say "sync $RUN_ID did not finish: rejected it (nothing is written); letting the worker end it (up to 45 s)"
    # With the worker still here, the run ends now as rejected, rather than in the next demo's worker (whose
    # log it would clutter).
    [[ -n "$WORKER_PID" ]] && timeout 45 node dist/cli/main.js result "$RUN_ID" >/dev/null 2>&1
  fi
  return 0
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  local rc=$?
  set +e
  # Another Ctrl-C cuts the waits short (the node children get it too) but still stops the worker and simulator.
  trap 'say "stopping the worker and simulator…"' INT TERM
  [[ "$RUN_DONE" == 1 ]] || reject_unfinished_run
  if [[ -n "$WORKER_PID$SIMULATOR_PID" ]]; then
    stop_background worker "$WORKER_PID"
    stop_background simulator "$SIMULATOR_PID"
    say "stopped the demo worker and simulator"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for_line NAME PID LOG PATTERN SECONDS: waits until LOG has a line matching PATTERN; fails, with the
# log's tail, when the process ends or the time is up.
wait_for_line() {
  local name="$1" pid="$2" logfile="$3" pattern="$4" seconds="$5" deadline
  deadline=$((SECONDS + seconds))
  until grep -q -- "$pattern" "$logfile" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      printf '[demo] ERROR: the %s stopped before it was ready; the end of %s:\n' "$name" "$logfile" >&2
      tail -n 20 "$logfile" | sed 's/^/[demo]   | /' >&2
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      printf '[demo] ERROR: the %s is not ready after %s s; the end of %s:\n' "$name" "$seconds" "$logfile" >&2
      tail -n 20 "$logfile" | sed 's/^/[demo]   | /' >&2
      exit 1
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------------- setup
if [[ ! -d node_modules ]]; then
  step "npm ci (node_modules is missing)"
  npm ci --no-audit --no-fund
fi

step "local stack (scripts/stack-up.sh)"
bash "$ROOT/scripts/stack-up.sh"

step "build (npm run build)"
npm run -s build

step "demo database $OCPP_MYSQL_DATABASE on $OCPP_MYSQL_HOST:$OCPP_MYSQL_PORT"
node dist-tools/tools/demo/seed-demo.js

step "the tool's own tables in $CP_SYNC_DATABASE (node dist/cli/main.js migrate)"
node dist/cli/main.js migrate

step "station simulator and worker (task queue $TEMPORAL_TASK_QUEUE)"
: >"$SIMULATOR_LOG"
: >"$WORKER_LOG"
# setsid: their own session, so that a Ctrl-C on the terminal reaches this script (which then rejects an
# unfinished run, through the worker) and not them; the EXIT trap stops them. Without job control a background
# child is no process-group leader, so setsid does not fork and $! is node's pid.
setsid node dist-tools/tools/demo/simulator.js </dev/null >>"$SIMULATOR_LOG" 2>&1 &
SIMULATOR_PID=$!
setsid node dist/cli/main.js worker </dev/null >>"$WORKER_LOG" 2>&1 &
WORKER_PID=$!
wait_for_line "station simulator" "$SIMULATOR_PID" "$SIMULATOR_LOG" '^Simulator: ' 30
head -n 1 "$SIMULATOR_LOG"
wait_for_line worker "$WORKER_PID" "$WORKER_LOG" 'Worker listening' 60
grep -m 1 'Worker listening' "$WORKER_LOG"
say "logs: ${SIMULATOR_LOG#"$ROOT"/} and ${WORKER_LOG#"$ROOT"/}"

# ----------------------------------------------------------------------------------------------------- run
RUN_ID="demo-$(date -u +%Y%m%d-%H%M%S)"
run_args=(run --id "$RUN_ID" --account demo)
if [[ -t 0 ]]; then
  prompt_note="it asks before writing"
else
  run_args+=(--yes)
  prompt_note="stdin is not a terminal: --yes approves the plan"
fi
step "node dist/cli/main.js ${run_args[*]}   ($prompt_note)"
set +e
node dist/cli/main.js "${run_args[@]}" | tee "$RUN_LOG"
run_status=${PIPESTATUS[0]}
set -e
if grep -q -E '^=== .+ ===$' "$RUN_LOG"; then RUN_DONE=1; else reject_unfinished_run; fi
stop_background worker "$WORKER_PID"
stop_background simulator "$SIMULATOR_PID"
WORKER_PID=""
SIMULATOR_PID=""
say "stopped the demo worker and simulator"

# ---------------------------------------------------------------------------------------------------- story
step "worker log (${WORKER_LOG#"$ROOT"/}): the lines operators grep for"
# Rejected messages repeat every second: the first one is shown, the others counted. Each line's time, level and
# workflow id (docs/operations.md "Log lines") are cut off first, so the patterns match the original wording.
awk '
  { sub(/^[0-9-]+T[0-9:.]+Z +[A-Z]+ +(\[[^]]*\] )?/, "") }
  /^Rejected message on / { if (rejected++ == 0) print "  " $0; next }
  /Connected to MQTT broker|Subscribed to connectors-count|Collection completed!|Disconnected from broker|^Collected |Database connection established|^Found [0-9]+ charging stations|^Processing device|^Station found|^Mismatch!|^Surplus points|Prepared [0-9]+ new charging points|Skipped \(test mode\)|^No station found|^Plan [0-9a-f]+:|^=== |Transaction|^Total charging points created|already existed when applying|deleted before applying/ { print "  " $0 }
  END { if (rejected > 1) printf "  (and %d more \"Rejected message\" lines: the device repeats its bad payload every second)\n", rejected - 1 }
' "$WORKER_LOG"

step "charging_points in $OCPP_MYSQL_DATABASE after the run"
# Success must leave exactly the rows the fleet implies; a rejected, expired or failed run, the seeded ones.
summary_args=(--summary)
[[ "$run_status" == 0 ]] || summary_args+=(--unchanged)
rows_ok=1
node dist-tools/tools/demo/seed-demo.js "${summary_args[@]}" || rows_ok=0

exit_status=$run_status
if [[ "$run_status" == 0 && "$rows_ok" == 0 ]]; then
  exit_status=1
fi

outcome="$(grep -m 1 -E '^=== .+ ===$' "$RUN_LOG" || true)"
web_ui="$(grep -E '^ *Web UI: ' "$RUN_LOG" | tail -n 1 | sed -E 's/^ *Web UI: //' || true)"
printf '\n'
say "sync $RUN_ID: ${outcome:-did not finish} (cp-sync run exit status $run_status)"
[[ -n "$web_ui" ]] && say "Web UI of the run: $web_ui"
say "its report again, from the run's history (no worker needed): node dist/cli/main.js result $RUN_ID"
say "the Temporal dev server keeps running so that the link works; stop the stack with: npm run stack:down"
exit "$exit_status"

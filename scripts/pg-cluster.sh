#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests (tests/store, the fleet tests).
#
#   scripts/pg-cluster.sh start DIR    initdb into DIR/data (once), start on a free port on
#                                      127.0.0.1, wait until it accepts connections and
#                                      write its URL to DIR/url
#   scripts/pg-cluster.sh restart DIR  stop the server and start it again on the same port,
#                                      keeping the data (a database outage mid-test)
#   scripts/pg-cluster.sh halt DIR     stop the server, keeping DIR (start brings it back on
#                                      the same port)
#   scripts/pg-cluster.sh stop DIR     stop the server and remove DIR
#   scripts/pg-cluster.sh url DIR      print the URL
#
# Every subcommand is idempotent: starting a running cluster or stopping a missing one
# succeeds. Durability is switched off (fsync=off): the data is thrown away anyway.
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user
# (GLIDEPATH_PG_USER overrides) and DIR is handed to it. Sockets live in DIR, never in
# /var/run, so several clusters (and a system one) coexist.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|restart|halt|url DIR" >&2
  exit 2
}
[[ $# -eq 2 ]] || usage
command=$1
dir=$2
[[ -n "$dir" ]] || usage
case "$dir" in
  /*) ;;
  *) dir="$PWD/$dir" ;;
esac

die() {
  echo "pg-cluster: $*" >&2
  exit 1
}

find_bindir() {
  if [[ -n "${GLIDEPATH_PG_BINDIR:-}" && -x "$GLIDEPATH_PG_BINDIR/pg_ctl" ]]; then
    echo "$GLIDEPATH_PG_BINDIR"
    return
  fi
  # Debian's /usr/bin/pg_config may belong to libpq-dev alone and name a bindir without
  # a server; only a bindir holding pg_ctl counts.
  if command -v pg_config >/dev/null 2>&1; then
    local candidate
    candidate=$(pg_config --bindir 2>/dev/null || true)
    if [[ -n "$candidate" && -x "$candidate/pg_ctl" && -x "$candidate/initdb" ]]; then
      echo "$candidate"
      return
    fi
  fi
  local newest=""
  for candidate in /usr/lib/postgresql/*/bin; do
    [[ -x "$candidate/pg_ctl" ]] && newest=$candidate
  done
  [[ -n "$newest" ]] || die "no PostgreSQL server binaries (pg_ctl) found; install postgresql"
  echo "$newest"
}
bindir=$(find_bindir)

if [[ $(id -u) -eq 0 ]]; then
  run_user=${GLIDEPATH_PG_USER:-postgres}
  id "$run_user" >/dev/null 2>&1 || die "running as root needs the unprivileged user '$run_user'"
  as_user() { runuser -u "$run_user" -- "$@"; }
else
  run_user=$(id -un)
  as_user() { "$@"; }
fi

data="$dir/data"
log="$dir/server.log"

is_running() {
  [[ -f "$data/postmaster.pid" ]] && as_user "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

port_in_use() {
  # Either a listener on 127.0.0.1 or a socket file of another cluster in this DIR.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    if ! port_in_use "$port"; then
      echo "$port"
      return
    fi
  done
  die "no free port found"
}

wait_ready() {
  local port=$1 deadline=$((SECONDS + 30))
  while ! as_user "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$run_user" -d postgres \
    -t 2; do
    ((SECONDS < deadline)) || {
      tail -n 20 "$log" >&2 || true
      die "the server on port $port did not accept connections within 30 s"
    }
    sleep 0.1
  done
}

start_server() {
  local port=$1
  # -o options win over postgresql.conf, so restart keeps the port and settings.
  local options="-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir"
  options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  options+=" -c shared_buffers=32MB -c max_connections=200 -c max_wal_size=256MB"
  options+=" -c log_min_messages=warning -c log_connections=off"
  as_user "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 30 -o "$options" start >/dev/null ||
    return 1
  wait_ready "$port"
}

do_start() {
  if is_running && [[ -f "$dir/url" ]]; then
    return 0
  fi
  mkdir -p "$dir"
  [[ $(id -u) -eq 0 ]] && chown "$run_user" "$dir"
  chmod 700 "$dir"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf "$data"
    # trust on 127.0.0.1 and the socket: a throwaway cluster reachable only locally.
    as_user "$bindir/initdb" -D "$data" -U "$run_user" --auth=trust -E UTF8 --locale=C \
      >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      die "initdb into $data failed"
    }
  fi
  local port
  if [[ -f "$dir/port" ]]; then
    port=$(cat "$dir/port")
    start_server "$port" || die "starting on port $port failed; see $log"
  else
    # A port found free can be taken before the server binds it: try a few.
    for _ in 1 2 3 4 5; do
      port=$(pick_port)
      if start_server "$port"; then
        echo "$port" >"$dir/port"
        break
      fi
      port=""
    done
    [[ -n "$port" ]] || {
      tail -n 20 "$log" >&2 || true
      die "the server would not start; see $log"
    }
  fi
  echo "postgres://$run_user@127.0.0.1:$port/postgres" >"$dir/url.tmp"
  mv "$dir/url.tmp" "$dir/url"
  echo "pg-cluster: running at $(cat "$dir/url")"
}

stop_server() {
  [[ -f "$data/postmaster.pid" ]] || return 0
  as_user "$bindir/pg_ctl" -D "$data" -w -t 10 -m fast stop >/dev/null 2>&1 ||
    as_user "$bindir/pg_ctl" -D "$data" -w -t 10 -m immediate stop >/dev/null 2>&1 || true
}

case "$command" in
  start) do_start ;;
  restart)
    [[ -f "$dir/port" && -f "$data/PG_VERSION" ]] || die "no cluster in $dir; run start first"
    stop_server
    start_server "$(cat "$dir/port")" || die "restarting failed; see $log"
    ;;
  halt) stop_server ;;
  stop)
    [[ -d "$dir" ]] || exit 0
    stop_server
    rm -rf "$dir"
    ;;
  url)
    [[ -f "$dir/url" ]] || die "no cluster in $dir"
    cat "$dir/url"
    ;;
  *) usage ;;
esac

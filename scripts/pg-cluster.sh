#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (issue 13).
#
#   scripts/pg-cluster.sh start DIR   initdb + pg_ctl start in DIR (created,
#                                     empty), a free port, its socket in DIR;
#                                     prints the connection parameters the
#                                     tests take (BANKFEED_TEST_PG)
#   scripts/pg-cluster.sh stop DIR    pg_ctl stop (fast) and remove DIR
#   scripts/pg-cluster.sh pgctl DIR ARGS...   pg_ctl on it (stop/start mid-test)
#
# PostgreSQL refuses to run as root: as root the cluster belongs to the
# user nobody (DIR is made theirs); otherwise to the caller.  Trust
# authentication over the socket in DIR only: it listens on no TCP address.
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bindir" ]; then
  echo "pg-cluster: PostgreSQL is not installed (scripts/install-deps.sh)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
  else
    "$@"
  fi
}

# The cluster listens on no TCP address, only on its socket in DIR, whose
# name holds the port: any port is free there.  A random one all the same,
# so that two clusters' sockets never look alike in a log.
free_port() {
  echo $((RANDOM % 20000 + 30000))
}

cmd=${1:-}; dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|pgctl DIR [ARGS...]" >&2
  exit 2
fi

case "$cmd" in
start)
  mkdir -p "$dir"
  chmod 0755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown nobody:nogroup "$dir"; fi
  as_owner "$bindir/initdb" -D "$dir/data" -U bankfeed --auth=trust \
    -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2; exit 1; }
  port=$(free_port)
  # Small and quick: a test cluster keeps nothing worth an fsync.  In
  # its configuration file, so that a pg_ctl start after a stop (a test
  # of a database going away) brings it back the same.
  cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
unix_socket_directories = '$dir'
listen_addresses = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 64MB
CONF
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s start >&2 || {
    cat "$dir/server.log" >&2; exit 1; }
  echo "$port" >"$dir/port"
  echo "host=$dir&port=$port&user=bankfeed"
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -s stop || true
  fi
  rm -rf "$dir"
  ;;
pgctl)
  shift 2
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -s "$@"
  ;;
*)
  echo "usage: $0 start|stop|pgctl DIR [ARGS...]" >&2
  exit 2
  ;;
esac

#!/usr/bin/env bash
# scripts/services.sh — install (only if missing) and start every backend server the
# actix-flask-session tests talk to, all on loopback, then wait for each to be healthy.
#
#   bash scripts/services.sh            # install + start + health-check (default)
#   bash scripts/services.sh status     # health-check only, start nothing
#   bash scripts/services.sh stop       # stop what this script starts itself
#                                       # (mongodb, dynamodb, memcached, redis-cluster, redis-sentinel)
#   eval "$(bash scripts/services.sh env)"   # export the connection URLs used by tests
#
# Services and ports (all bound to 127.0.0.1):
#   postgres 5432 | mariadb 3306 | redis 6379 | redis-cluster 7000-7005
#   memcached 11211 | mongodb (SecantusDB, wire-compatible) 27017 | dynamodb (moto) 8000
#   redis-sentinel: master group "mymaster" = 26390 (master) + 26391, 26392 (replicas),
#                   watched by the sentinels 26379, 26380, 26381 (redis-server --sentinel;
#                   after a failover the master may be any of 26390-26392)
#
# Choose a subset with SERVICES="redis memcached ..." (default: all).
# State (venvs, logs, pid files, cluster dirs) lives in $SVC_HOME.
# Exit status: 0 when every selected service is healthy, 1 otherwise.
set -u -o pipefail

ACTION="${1:-start}"
SVC_HOME="${SVC_HOME:-${HOME:-.}/.cache/actix-flask-session-services}"
SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICES="${SERVICES:-postgres mariadb redis redis-cluster redis-sentinel memcached mongodb dynamodb}"
WAIT_SECS="${WAIT_SECS:-60}"          # per-service health wait
INSTALL_TIMEOUT="${INSTALL_TIMEOUT:-600}"
PYTHON="${PYTHON:-python3}"
SECANTUS_VERSION="${SECANTUS_VERSION:-0.7.0b3}"   # pre-release: keep it pinned exactly
MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
MONGO_PORT="${MONGO_PORT:-27017}"
MONGO_TTL_SWEEP="${MONGO_TTL_SWEEP:-1}"    # seconds between TTL-index sweeps (mongod: 60)
DYNAMO_PORT="${DYNAMO_PORT:-8000}"
MEMCACHED_PORT="${MEMCACHED_PORT:-11211}"
CLUSTER_PORTS="7000 7001 7002 7003 7004 7005"
SENTINEL_DATA_PORTS="26390 26391 26392"   # first one starts as the master
SENTINEL_PORTS="26379 26380 26381"
SENTINEL_MASTER=mymaster

LOG="$SVC_HOME/logs"; RUN="$SVC_HOME/run"
mkdir -p "$LOG" "$RUN"
T0=$(date +%s.%N)
FAILED=0

want() { case " $SERVICES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
status_line() { # ok|FAIL name endpoint note
  printf '%-4s %-13s %-26s %s\n' "$1" "$2" "$3" "$4"
  [ "$1" = ok ] || FAILED=1
}
# wait_for SECONDS CMD...  -> 0 as soon as CMD succeeds, 1 after SECONDS
wait_for() {
  local secs=$1; shift
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# ---------------------------------------------------------------- health checks
pg_ok()        { pg_isready -q -h 127.0.0.1 -p 5432 || return 1; local u
                 for u in root postgres; do psql -h 127.0.0.1 -p 5432 -U "$u" -d test -Atqc 'select 1' >/dev/null 2>&1 && return 0; done; return 1; }
pg_up()        { pg_isready -q -h 127.0.0.1 -p 5432; }
maria_up()     { mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1 || mariadb-admin --protocol=socket ping >/dev/null 2>&1; }
maria_ok()     { mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u root -e 'select 1' test >/dev/null 2>&1; }
redis_ok()     { [ "$(redis-cli -h 127.0.0.1 -p "${1:-6379}" ping 2>/dev/null)" = PONG ]; }
cluster_ok() {
  local p
  for p in $CLUSTER_PORTS; do
    redis-cli -h 127.0.0.1 -p "$p" cluster info 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok' || return 1
  done
  # 3 masters + 3 replicas, as seen from node 7000 (flags are field 3, e.g. "myself,master")
  local flags; flags=$(redis-cli -h 127.0.0.1 -p 7000 cluster nodes 2>/dev/null | awk '{print $3}')
  [ "$(grep -c master <<<"$flags")" -eq 3 ] && [ "$(grep -c slave <<<"$flags")" -eq 3 ]
}
sentinel_ok() {  # every sentinel has quorum, and the master they name has 2 replicas in sync
  local p addr host port
  for p in $SENTINEL_PORTS; do
    redis-cli -h 127.0.0.1 -p "$p" sentinel ckquorum "$SENTINEL_MASTER" 2>/dev/null | grep -q '^OK 3 usable' || return 1
  done
  addr=$(redis-cli -h 127.0.0.1 -p "${SENTINEL_PORTS%% *}" sentinel get-master-addr-by-name "$SENTINEL_MASTER" 2>/dev/null | tr '\n' ' ')
  read -r host port <<<"$addr"
  [ -n "${port:-}" ] && [ "$(redis-cli -h "$host" -p "$port" info replication 2>/dev/null | grep -c 'state=online')" -eq 2 ]
}
memcached_ok() { printf 'version\r\nquit\r\n' | timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MEMCACHED_PORT; cat >&3; head -1 <&3" 2>/dev/null | grep -q '^VERSION'; }
mongo_ok() {
  tcp_open "$MONGO_PORT" && "$SVC_HOME/venv-mongo/bin/python" - "$MONGO_PORT" <<'EOF' >/dev/null 2>&1
import sys, pymongo
c = pymongo.MongoClient(f"mongodb://127.0.0.1:{sys.argv[1]}/", serverSelectionTimeoutMS=1000)
assert c.admin.command("ping")["ok"] == 1
EOF
}
dynamo_ok() {
  curl -fsS -m 2 -X POST "http://127.0.0.1:$DYNAMO_PORT/" \
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
    -d '{}' 2>/dev/null | grep -q TableNames
}

# ---------------------------------------------------------------- stop / status
if [ "$ACTION" = stop ]; then  # only what this script itself started (pid files in $RUN)
  for f in mongodb dynamodb memcached; do
    want "$f" || continue
    if pid_alive "$RUN/$f.pid"; then kill "$(cat "$RUN/$f.pid")" && echo "stopped $f"; fi
    rm -f "$RUN/$f.pid"
  done
  if want redis-sentinel; then
    for p in $SENTINEL_PORTS $SENTINEL_DATA_PORTS; do
      [ -f "$RUN/redis-$p.pid" ] || continue
      pid_alive "$RUN/redis-$p.pid" && kill "$(cat "$RUN/redis-$p.pid")" && echo "stopped redis-sentinel node $p"
      rm -f "$RUN/redis-$p.pid"
    done
  fi
  if want redis-cluster; then
    for p in $CLUSTER_PORTS; do
      [ -f "$RUN/redis-$p.pid" ] || continue
      redis-cli -h 127.0.0.1 -p "$p" shutdown nosave >/dev/null 2>&1 && echo "stopped redis-cluster node $p"
      rm -f "$RUN/redis-$p.pid"
    done
  fi
  exit 0
fi

report() {
  want postgres      && { pg_ok        && status_line ok postgres 127.0.0.1:5432 "$1" || status_line FAIL postgres 127.0.0.1:5432 "not healthy (root or postgres @ db test over TCP)"; }
  want mariadb       && { maria_ok     && status_line ok mariadb 127.0.0.1:3306 "$1" || status_line FAIL mariadb 127.0.0.1:3306 "not healthy (root, no password, db test)"; }
  want redis         && { redis_ok     && status_line ok redis 127.0.0.1:6379 "$1" || status_line FAIL redis 127.0.0.1:6379 "no PONG"; }
  want redis-cluster && { cluster_ok   && status_line ok redis-cluster 127.0.0.1:7000-7005 "$1" || status_line FAIL redis-cluster 127.0.0.1:7000-7005 "cluster_state not ok"; }
  want redis-sentinel && { sentinel_ok && status_line ok redis-sentinel 127.0.0.1:26379-26381 "$1" || status_line FAIL redis-sentinel 127.0.0.1:26379-26381 "no quorum or master without 2 replicas"; }
  want memcached     && { memcached_ok && status_line ok memcached 127.0.0.1:$MEMCACHED_PORT "$1" || status_line FAIL memcached 127.0.0.1:$MEMCACHED_PORT "no VERSION reply"; }
  want mongodb       && { mongo_ok     && status_line ok mongodb 127.0.0.1:$MONGO_PORT "$1" || status_line FAIL mongodb 127.0.0.1:$MONGO_PORT "no ping reply"; }
  want dynamodb      && { dynamo_ok    && status_line ok dynamodb 127.0.0.1:$DYNAMO_PORT "$1" || status_line FAIL dynamodb 127.0.0.1:$DYNAMO_PORT "ListTables failed"; }
}
if [ "$ACTION" = status ]; then report ""; exit $FAILED; fi
if [ "$ACTION" = env ]; then  # eval "$(bash start-services.sh env)"
  cat <<EOF
export PG_URL=postgres://root@127.0.0.1:5432/test
export MYSQL_URL=mysql://root@127.0.0.1:3306/test
export REDIS_URL=redis://127.0.0.1:6379
export REDIS_CLUSTER_URLS=redis://127.0.0.1:7000,redis://127.0.0.1:7001,redis://127.0.0.1:7002,redis://127.0.0.1:7003,redis://127.0.0.1:7004,redis://127.0.0.1:7005
export REDIS_SENTINEL_URLS=redis://127.0.0.1:26379,redis://127.0.0.1:26380,redis://127.0.0.1:26381
export REDIS_SENTINEL_MASTER=$SENTINEL_MASTER
export MEMCACHED_URL=memcache://127.0.0.1:$MEMCACHED_PORT
export MONGODB_URL=mongodb://127.0.0.1:$MONGO_PORT
export DYNAMODB_ENDPOINT=http://127.0.0.1:$DYNAMO_PORT
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
EOF
  exit 0
fi
[ "$ACTION" = start ] || { echo "usage: $0 [start|status|stop|env]" >&2; exit 2; }

# ---------------------------------------------------------------- installs
declare -A NOTE
# Python servers: start their (slow, network-bound) installs first, in the background.
pip_install() { # venv-dir marker-cmd pkgs...
  local venv=$1 check=$2; shift 2
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" >/dev/null 2>&1; then return 0; fi
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv" || return 1
  timeout "$INSTALL_TIMEOUT" "$venv/bin/pip" install -q --disable-pip-version-check "$@"
}
PIP_PIDS=()
if want mongodb; then
  ( s=$(now); pip_install "$SVC_HOME/venv-mongo" \
      "import importlib.metadata as m; assert m.version('SecantusDB')=='$SECANTUS_VERSION'" \
      "SecantusDB==$SECANTUS_VERSION" >"$LOG/pip-mongo.log" 2>&1; rc=$?; echo "$rc $(elapsed "$s")" >"$RUN/pip-mongo.rc" ) &
  PIP_PIDS+=($!)
fi
if want dynamodb; then
  ( s=$(now); pip_install "$SVC_HOME/venv-moto" \
      "import importlib.metadata as m; assert m.version('moto')=='$MOTO_VERSION'; import flask, flask_cors, py_partiql_parser" \
      "moto[dynamodb]==$MOTO_VERSION" flask flask-cors >"$LOG/pip-moto.log" 2>&1; rc=$?; echo "$rc $(elapsed "$s")" >"$RUN/pip-moto.rc" ) &
  PIP_PIDS+=($!)
fi

# Debian packages, one apt run for whatever is missing.
APT_PKGS=()
want memcached     && ! command -v memcached >/dev/null && APT_PKGS+=(memcached)
# Sentinel mode is `redis-server --sentinel` (Debian's redis-sentinel package only adds a
# symlink and a service unit), so redis-server is all the sentinel service needs.
{ want redis || want redis-cluster || want redis-sentinel; } && ! command -v redis-server >/dev/null && APT_PKGS+=(redis-server)
{ want redis || want redis-cluster || want redis-sentinel; } && ! command -v redis-cli >/dev/null && APT_PKGS+=(redis-tools)
want mariadb       && [ ! -x /usr/sbin/mariadbd ] && APT_PKGS+=(mariadb-server mariadb-client)
want postgres      && [ ! -d /etc/postgresql ] && APT_PKGS+=(postgresql postgresql-client)
if [ ${#APT_PKGS[@]} -gt 0 ]; then
  s=$(now)
  export DEBIAN_FRONTEND=noninteractive
  # Another apt run (the test script's, a user's) holds apt's locks for a while: wait for
  # them (dpkg's lock by apt's own timeout, the lists lock by retrying).
  apt_ok=false
  for attempt in 1 2 3 4 5 6; do
    if { timeout "$INSTALL_TIMEOUT" apt-get -o DPkg::Lock::Timeout=300 update -qq &&
         timeout "$INSTALL_TIMEOUT" apt-get -o DPkg::Lock::Timeout=300 install -y -q \
           --no-install-recommends "${APT_PKGS[@]}"; } >"$LOG/apt.log" 2>&1; then
      apt_ok=true; break
    fi
    grep -q 'Could not get lock' "$LOG/apt.log" || break
    sleep 10
  done
  if $apt_ok; then
    echo "installed (apt): ${APT_PKGS[*]} in $(elapsed "$s")s"
  else
    echo "apt-get install ${APT_PKGS[*]} failed after $(elapsed "$s")s, see $LOG/apt.log" >&2
  fi
fi

# ---------------------------------------------------------------- starts (non-blocking)
# PostgreSQL
if want postgres; then
  if pg_up; then NOTE[postgres]="already running"; else
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start >"$LOG/postgres-start.log" 2>&1
    NOTE[postgres]="started"
  fi
fi

# MariaDB
if want mariadb; then
  if maria_up; then NOTE[mariadb]="already running"; else
    install -d -o mysql -g root -m 755 /run/mysqld 2>/dev/null || mkdir -p /run/mysqld
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    NOTE[mariadb]="started"
    # Debian's stock config has no `user = mysql`, so as root mariadbd aborts within a
    # second ("run mariadbd as root"). If the process is gone before it answers, retry as mysql.
    deadline=$(( $(date +%s) + 15 ))
    while ! maria_up && [ "$(date +%s)" -lt "$deadline" ]; do
      if ! pgrep -x mariadbd >/dev/null; then
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
        NOTE[mariadb]="started (retried with --user=mysql)"
        break
      fi
      sleep 0.2
    done
  fi
fi

# Redis (single node)
if want redis; then
  if redis_ok 6379; then NOTE[redis]="already running"; else
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no >"$LOG/redis-start.log" 2>&1
    NOTE[redis]="started"
  fi
fi

# memcached
if want memcached; then
  if memcached_ok; then NOTE[memcached]="already running"; else
    mcuser=memcache; id memcache >/dev/null 2>&1 || mcuser=nobody
    # foreground under nohup so that $! is the real pid (memcached -d -P writes its pid file
    # only after dropping to the unprivileged user, so often not at all)
    nohup memcached -u "$mcuser" -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 64 >"$LOG/memcached.log" 2>&1 &
    echo $! >"$RUN/memcached.pid"; disown
    NOTE[memcached]="started"
  fi
fi

# Redis Cluster: 6 nodes, 3 masters + 3 replicas, no persistence. Any half-formed
# state is thrown away and the cluster is rebuilt from scratch (takes ~3 s).
start_cluster() {
  local p nodes=()
  for p in $CLUSTER_PORTS; do redis-cli -h 127.0.0.1 -p "$p" shutdown nosave >/dev/null 2>&1; done
  for p in $CLUSTER_PORTS; do wait_for 10 bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$p)"; done
  rm -rf "$SVC_HOME/redis-cluster"
  for p in $CLUSTER_PORTS; do
    mkdir -p "$SVC_HOME/redis-cluster/$p"
    redis-server --port "$p" --bind 127.0.0.1 --daemonize yes \
      --dir "$SVC_HOME/redis-cluster/$p" --cluster-enabled yes --cluster-config-file "nodes-$p.conf" \
      --cluster-node-timeout 5000 --save "" --appendonly no \
      --logfile "$LOG/redis-$p.log" --pidfile "$RUN/redis-$p.pid"
    nodes+=("127.0.0.1:$p")
  done
  for p in $CLUSTER_PORTS; do wait_for 10 redis_ok "$p" || return 1; done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$LOG/redis-cluster-create.log" 2>&1
}
if want redis-cluster; then
  if cluster_ok; then NOTE[redis-cluster]="already running"; else
    start_cluster; NOTE[redis-cluster]="created"
  fi
fi

# Redis Sentinel: a master, two replicas and three sentinels, no persistence. Any
# half-formed state is thrown away and the group is rebuilt from scratch.
start_sentinel() {
  local p dir="$SVC_HOME/redis-sentinel" master=${SENTINEL_DATA_PORTS%% *}
  for p in $SENTINEL_PORTS $SENTINEL_DATA_PORTS; do
    if pid_alive "$RUN/redis-$p.pid"; then kill "$(cat "$RUN/redis-$p.pid")"; fi
    rm -f "$RUN/redis-$p.pid"
  done
  for p in $SENTINEL_PORTS $SENTINEL_DATA_PORTS; do wait_for 10 bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$p)"; done
  rm -rf "$dir"
  for p in $SENTINEL_DATA_PORTS; do
    mkdir -p "$dir/$p"
    local replica=()
    [ "$p" = "$master" ] || replica=(--replicaof 127.0.0.1 "$master")
    redis-server --port "$p" --bind 127.0.0.1 --daemonize yes --dir "$dir/$p" --save "" --appendonly no \
      --repl-diskless-sync-delay 0 --logfile "$LOG/redis-$p.log" --pidfile "$RUN/redis-$p.pid" "${replica[@]}"
  done
  for p in $SENTINEL_DATA_PORTS; do wait_for 10 redis_ok "$p" || return 1; done
  for p in $SENTINEL_PORTS; do
    mkdir -p "$dir/$p"
    cat >"$dir/$p/sentinel.conf" <<CONF
port $p
bind 127.0.0.1
daemonize yes
dir $dir/$p
pidfile $RUN/redis-$p.pid
logfile $LOG/redis-$p.log
sentinel monitor $SENTINEL_MASTER 127.0.0.1 $master 2
sentinel down-after-milliseconds $SENTINEL_MASTER 2000
sentinel failover-timeout $SENTINEL_MASTER 10000
sentinel parallel-syncs $SENTINEL_MASTER 1
CONF
    redis-server "$dir/$p/sentinel.conf" --sentinel
  done
}
if want redis-sentinel; then
  if sentinel_ok; then NOTE[redis-sentinel]="already running"; else
    start_sentinel; NOTE[redis-sentinel]="created"
  fi
fi

# Wait for the Python installs before starting the Python servers.
for pid in "${PIP_PIDS[@]}"; do wait "$pid"; done
for f in mongo moto; do
  [ -f "$RUN/pip-$f.rc" ] || continue
  read -r rc secs <"$RUN/pip-$f.rc"; rm -f "$RUN/pip-$f.rc"
  if [ "$rc" = 0 ]; then echo "venv-$f ready in ${secs}s"; else echo "pip install for $f failed (rc=$rc), see $LOG/pip-$f.log" >&2; fi
done

# MongoDB-wire-compatible server: SecantusDB (Python server over WiredTiger), in memory.
if want mongodb; then
  if mongo_ok; then NOTE[mongodb]="already running"; else
    # Launched through the documented embedding API (SecantusDBServer) rather than the
    # secantusd-py CLI, because the 0.7.0b3 CLI ignores ttl_sweep_seconds (fixed 60 s TTL
    # monitor, like mongod). A 1 s sweep lets TTL-index tests finish quickly.
    nohup "$SVC_HOME/venv-mongo/bin/python" -c '
import signal, sys
from secantus import SecantusDBServer
srv = SecantusDBServer(host="127.0.0.1", port=int(sys.argv[1]), storage_path=":memory:",
                       ttl_sweep_seconds=float(sys.argv[2]), cache_size="256M", enable_test_commands=False)
def stop(*_):
    srv.stop(); sys.exit(0)
signal.signal(signal.SIGTERM, stop); signal.signal(signal.SIGINT, stop)
srv.start(); srv.wait()
' "$MONGO_PORT" "$MONGO_TTL_SWEEP" >"$LOG/mongodb.log" 2>&1 &
    echo $! >"$RUN/mongodb.pid"; disown
    NOTE[mongodb]="started (SecantusDB $SECANTUS_VERSION)"
  fi
fi

# DynamoDB-compatible server: moto_server.
if want dynamodb; then
  if dynamo_ok; then NOTE[dynamodb]="already running"; else
    # One request at a time: moto's transactions are not isolated otherwise (see the script).
    nohup "$SVC_HOME/venv-moto/bin/python" "$SCRIPTS_DIR/moto-serialized.py" -H 127.0.0.1 -p "$DYNAMO_PORT" >"$LOG/dynamodb.log" 2>&1 &
    echo $! >"$RUN/dynamodb.pid"; disown
    NOTE[dynamodb]="started (moto $MOTO_VERSION)"
  fi
fi

# ---------------------------------------------------------------- wait + provision
if want postgres; then
  wait_for "$WAIT_SECS" pg_up
  if pg_up && ! pg_ok && id postgres >/dev/null 2>&1; then  # bare local cluster: add role root + db test
    runuser -u postgres -- psql -q -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='root') THEN CREATE ROLE root SUPERUSER LOGIN; END IF; END\$\$" >/dev/null 2>&1
    runuser -u postgres -- createdb -O root test >/dev/null 2>&1
    NOTE[postgres]="${NOTE[postgres]}, provisioned root/test"
  fi
fi
if want mariadb; then
  wait_for "$WAIT_SECS" maria_up
  if maria_up && ! maria_ok; then  # Debian default: root is socket-auth only; allow passwordless TCP
    mariadb --protocol=socket -e "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
      CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;
      CREATE DATABASE IF NOT EXISTS test; FLUSH PRIVILEGES;" >/dev/null 2>&1
    NOTE[mariadb]="${NOTE[mariadb]}, provisioned root/test"
  fi
fi
want redis         && wait_for "$WAIT_SECS" redis_ok 6379
want redis-cluster && wait_for "$WAIT_SECS" cluster_ok
want redis-sentinel && wait_for "$WAIT_SECS" sentinel_ok
want memcached     && wait_for "$WAIT_SECS" memcached_ok
want mongodb       && wait_for "$WAIT_SECS" mongo_ok
want dynamodb      && wait_for "$WAIT_SECS" dynamo_ok

for s in postgres mariadb redis redis-cluster redis-sentinel memcached mongodb dynamodb; do : "${NOTE[$s]:=}"; done
want postgres      && { pg_ok        && status_line ok postgres 127.0.0.1:5432 "${NOTE[postgres]}" || status_line FAIL postgres 127.0.0.1:5432 "not healthy after ${WAIT_SECS}s; see $LOG/postgres-start.log"; }
want mariadb       && { maria_ok     && status_line ok mariadb 127.0.0.1:3306 "${NOTE[mariadb]}" || status_line FAIL mariadb 127.0.0.1:3306 "not healthy after ${WAIT_SECS}s"; }
want redis         && { redis_ok     && status_line ok redis 127.0.0.1:6379 "${NOTE[redis]}" || status_line FAIL redis 127.0.0.1:6379 "no PONG; see $LOG/redis-start.log"; }
want redis-cluster && { cluster_ok   && status_line ok redis-cluster 127.0.0.1:7000-7005 "${NOTE[redis-cluster]}" || status_line FAIL redis-cluster 127.0.0.1:7000-7005 "see $LOG/redis-cluster-create.log"; }
want redis-sentinel && { sentinel_ok && status_line ok redis-sentinel 127.0.0.1:26379-26381 "${NOTE[redis-sentinel]}" || status_line FAIL redis-sentinel 127.0.0.1:26379-26381 "see $LOG/redis-2637*.log, $LOG/redis-2639*.log"; }
want memcached     && { memcached_ok && status_line ok memcached "127.0.0.1:$MEMCACHED_PORT" "${NOTE[memcached]}" || status_line FAIL memcached "127.0.0.1:$MEMCACHED_PORT" "no VERSION reply"; }
want mongodb       && { mongo_ok     && status_line ok mongodb "127.0.0.1:$MONGO_PORT" "${NOTE[mongodb]}" || status_line FAIL mongodb "127.0.0.1:$MONGO_PORT" "see $LOG/mongodb.log, $LOG/pip-mongo.log"; }
want dynamodb      && { dynamo_ok    && status_line ok dynamodb "127.0.0.1:$DYNAMO_PORT" "${NOTE[dynamodb]}" || status_line FAIL dynamodb "127.0.0.1:$DYNAMO_PORT" "see $LOG/dynamodb.log, $LOG/pip-moto.log"; }
echo "start-services: total $(elapsed "$T0")s, $( [ $FAILED = 0 ] && echo 'all healthy' || echo 'SOME FAILED')"
exit $FAILED

#!/usr/bin/env bash
# Real services for the tests, on 127.0.0.1 only:
#   * a single-node Ceph cluster (monitor + memstore OSD + RADOS Gateway = S3 on port 7480)
#     with a test user that has fixed keys, and a second user with a tiny quota (STORE_FULL tests);
#   * a Redis server on port 6379 (Celery broker / result backend in the tests).
#
#   scripts/services.sh start    start what is not running (idempotent), wait until ready
#   scripts/services.sh stop     stop what start started and remove ./.services
#   scripts/services.sh status   one line per service; exit 0 only if all are up
#   scripts/services.sh env      the variables the tests read:  eval "$(scripts/services.sh env)"
#
# Data, logs and pids live under ./.services (gitignored; KHO_SERVICES_DIR overrides it).
# memstore keeps the OSD's data in RAM: a restart of the cluster starts from an empty store.
# Needs the Debian packages of scripts/install-system.sh (ceph-mon ceph-osd radosgw redis-server).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SVC=${KHO_SERVICES_DIR:-$ROOT/.services}
HOST=127.0.0.1
MON_PORT=6789
S3_PORT=7480
REDIS_PORT=6379
# Fixed test credentials (a throw-away cluster on loopback; never used outside the tests).
S3_ACCESS_KEY=KHOTESTACCESSKEY0001
S3_SECRET_KEY=khotestsecretkey0000000000000000000000001
S3_FULL_ACCESS_KEY=KHOTESTFULLQUOTA0001
S3_FULL_SECRET_KEY=khotestfullquota000000000000000000000001
S3_FULL_QUOTA_BYTES=65536

CEPH_DIR=$SVC/ceph
CONF=$CEPH_DIR/ceph.conf
RUN=$SVC/run
LOG=$SVC/log
export CEPH_CONF=$CONF

say() { printf 'services: %s\n' "$*" >&2; }

ON_DIE=
die() {
  # die <message> [log file...]: the message, then the tail of each log named.
  say "LỖI / ERROR: $1"
  [ -z "$ON_DIE" ] || "$ON_DIE" >/dev/null 2>&1 || true
  shift
  for f in "$@"; do
    if [ -s "$f" ]; then
      printf -- '---- last lines of %s ----\n' "$f" >&2
      tail -n 25 "$f" >&2
    fi
  done
  exit 1
}

proc_alive() { # proc_alive <pid>: running and not a zombie waiting to be reaped
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != "Z" ] && [ "$state" != "X" ]
}

pid_alive() { # pid_alive <pidfile>
  [ -s "$1" ] && proc_alive "$(cat "$1")"
}

wait_for() { # wait_for <seconds> <what> <command...>
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      return 1
    fi
    sleep 0.1
  done
  say "$what ready"
}

spawn() { # spawn <name> <command...>: run in the background, own session, log + pid file.
  local name=$1
  shift
  setsid "$@" >>"$LOG/$name.out" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN/$name.pid"
}

stop_pid() { # stop_pid <pidfile>: TERM, then KILL after 10 s.
  local file=$1 pid
  [ -s "$file" ] || { rm -f "$file"; return 0; }
  pid=$(cat "$file")
  if proc_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      proc_alive "$pid" || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

# -- Redis ---------------------------------------------------------------------------------
redis_ping() { [ "$(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

start_redis() {
  if redis_ping; then
    say "redis already running on $HOST:$REDIS_PORT"
    return 0
  fi
  command -v redis-server >/dev/null || die "redis-server is not installed: run scripts/install-system.sh"
  mkdir -p "$SVC/redis"
  redis-server --bind "$HOST" --port "$REDIS_PORT" --daemonize yes --save "" --appendonly no \
    --dir "$SVC/redis" --pidfile "$RUN/redis.pid" --logfile "$LOG/redis.log" 9>&- \
    || die "redis-server did not start" "$LOG/redis.log"
  wait_for 10 "redis ($HOST:$REDIS_PORT)" redis_ping || die "redis does not answer PING" "$LOG/redis.log"
}

stop_redis() {
  if pid_alive "$RUN/redis.pid"; then
    redis-cli -h "$HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    stop_pid "$RUN/redis.pid"
  fi
  rm -f "$RUN/redis.pid"
}

# -- Ceph ----------------------------------------------------------------------------------
s3_answers() { # any HTTP answer from the gateway
  local code
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$HOST:$S3_PORT/" 2>/dev/null) || true
  [ -n "$code" ] && [ "$code" != "000" ]
}

s3() { # s3 <method> <path> [curl args...]: a SigV4-signed request as the test user.
  local method=$1 path=$2
  shift 2
  curl -sS -f -m 30 -X "$method" --aws-sigv4 "aws:amz:us-east-1:s3" \
    -u "$S3_ACCESS_KEY:$S3_SECRET_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@" "http://$HOST:$S3_PORT$path"
}

osd_up() { ceph --connect-timeout 5 osd stat 2>/dev/null | grep -q ' 1 up'; }

write_conf() {
  local fsid=$1
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = v1:$HOST:$MON_PORT
public addr = $HOST
cluster addr = $HOST
ms bind msgr2 = false
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
# The OSD would place itself in the CRUSH map at boot, through a monitor command that races
# with its first monitor map (a random 'wrong fsid' EPERM abort): start_ceph places it instead.
osd crush update on start = false
osd class update on start = false
osd objectstore = memstore
memstore device bytes = 2147483648
# Pools and maps are proposed right away instead of in 1 s batches: a faster start.
paxos propose interval = 0.01
paxos min wait = 0.01
run dir = $CEPH_DIR/run
admin socket = $CEPH_DIR/run/\$cluster-\$name.asok
log file = $LOG/ceph-\$name.log
crash dir = $CEPH_DIR/crash
keyring = $CEPH_DIR/keyring
mon data = $CEPH_DIR/mon/\$cluster-\$id
osd data = $CEPH_DIR/osd/\$cluster-\$id
log to stderr = false
err to stderr = true

[client.rgw.a]
# tcp_nodelay: without it a small GET waits ~40 ms for a delayed ACK (Nagle).
rgw frontends = beast endpoint=$HOST:$S3_PORT tcp_nodelay=1
rgw data = $CEPH_DIR/rgw
rgw thread pool size = 64
EOF
}

ceph_running() { pid_alive "$RUN/ceph-rgw.pid" && s3_answers; }

start_ceph() {
  if ceph_running; then
    say "ceph S3 gateway already running on $HOST:$S3_PORT"
    return 0
  fi
  for bin in ceph-mon ceph-osd radosgw radosgw-admin ceph-authtool monmaptool curl; do
    command -v "$bin" >/dev/null || die "$bin is not installed: run scripts/install-system.sh"
  done
  if s3_answers; then
    die "port $HOST:$S3_PORT is taken by a process not started by this script"
  fi
  # A half-started or dead cluster from an earlier run: memstore lost its data anyway.
  stop_ceph
  ON_DIE=stop_ceph_keep_logs
  local t0=$SECONDS fsid uuid id
  mkdir -p "$CEPH_DIR"/{run,crash,rgw,mon} "$RUN" "$LOG"
  fsid=$(cat /proc/sys/kernel/random/uuid)
  uuid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid"

  ceph-authtool --create-keyring "$CEPH_DIR/keyring" --gen-key -n mon. --cap mon 'allow *' \
    >>"$LOG/bootstrap.log" 2>&1 || die "ceph-authtool failed" "$LOG/bootstrap.log"
  monmaptool --create --add a "v1:$HOST:$MON_PORT" --fsid "$fsid" "$CEPH_DIR/monmap" \
    >>"$LOG/bootstrap.log" 2>&1 || die "monmaptool failed" "$LOG/bootstrap.log"
  ceph-mon --mkfs -i a --monmap "$CEPH_DIR/monmap" --keyring "$CEPH_DIR/keyring" \
    >>"$LOG/bootstrap.log" 2>&1 || die "ceph-mon --mkfs failed" "$LOG/bootstrap.log"
  spawn ceph-mon ceph-mon -f -i a
  # 'mon stat' answers before the monitor accepts admin commands (EPERM for a moment).
  wait_for 20 "ceph monitor ($HOST:$MON_PORT)" ceph --connect-timeout 2 osd ls \
    || die "the ceph monitor did not come up" "$LOG/ceph-mon.a.log" "$LOG/ceph-mon.out"

  id=$(ceph osd new "$uuid" 2>>"$LOG/bootstrap.log") \
    || die "ceph osd new failed" "$LOG/bootstrap.log"
  # With authentication off the monitor still checks each daemon's caps in its auth table.
  { ceph auth add "osd.$id" mon 'allow profile osd' mgr 'allow profile osd' osd 'allow *' &&
    ceph auth add client.rgw.a mon 'allow rw' osd 'allow rwx' mgr 'allow rw' &&
    ceph osd crush add "osd.$id" 1.0 host=localhost root=default; } \
    >>"$LOG/bootstrap.log" 2>&1 || die "ceph auth add failed" "$LOG/bootstrap.log"
  mkdir -p "$CEPH_DIR/osd/ceph-$id"
  ceph-osd -i "$id" --mkfs --osd-uuid "$uuid" >>"$LOG/bootstrap.log" 2>&1 \
    || die "ceph-osd --mkfs failed" "$LOG/bootstrap.log" "$LOG/ceph-osd.$id.log"
  spawn ceph-osd ceph-osd -f -i "$id"
  wait_for 30 "ceph osd.$id" osd_up \
    || die "the ceph OSD did not come up" "$LOG/ceph-osd.$id.log" "$LOG/ceph-osd.out"

  spawn ceph-rgw radosgw -n client.rgw.a -f
  wait_for 60 "S3 gateway (http://$HOST:$S3_PORT)" s3_answers \
    || die "the S3 gateway does not answer" "$LOG/ceph-client.rgw.a.log" "$LOG/ceph-rgw.out"

  radosgw-admin user create --uid=kho-test --display-name="Kho tests" \
    --access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" >>"$LOG/bootstrap.log" 2>&1 \
    || die "radosgw-admin user create failed" "$LOG/bootstrap.log"
  radosgw-admin user create --uid=kho-full --display-name="Kho tests (full quota)" \
    --access-key="$S3_FULL_ACCESS_KEY" --secret-key="$S3_FULL_SECRET_KEY" \
    >>"$LOG/bootstrap.log" 2>&1 || die "radosgw-admin user create failed" "$LOG/bootstrap.log"
  radosgw-admin quota set --quota-scope=user --uid=kho-full --max-size="$S3_FULL_QUOTA_BYTES" \
    >>"$LOG/bootstrap.log" 2>&1 || die "radosgw-admin quota set failed" "$LOG/bootstrap.log"
  radosgw-admin quota enable --quota-scope=user --uid=kho-full \
    >>"$LOG/bootstrap.log" 2>&1 || die "radosgw-admin quota enable failed" "$LOG/bootstrap.log"

  # Warm up: the first bucket / object / multipart calls create pools lazily (~2 s each).
  local warm=kho-warmup-$$
  {
    s3 PUT "/$warm" &&
      s3 PUT "/$warm/o" --data-binary warm &&
      s3 GET "/$warm/o" -o /dev/null &&
      s3 DELETE "/$warm/o" &&
      s3 DELETE "/$warm"
  } >>"$LOG/bootstrap.log" 2>&1 || die "the S3 warm-up requests failed" "$LOG/bootstrap.log" \
    "$LOG/ceph-client.rgw.a.log"
  ON_DIE=
  say "ceph started in $((SECONDS - t0)) s"
}

stop_ceph_keep_logs() {
  stop_pid "$RUN/ceph-rgw.pid"
  stop_pid "$RUN/ceph-osd.pid"
  stop_pid "$RUN/ceph-mon.pid"
  rm -rf "$CEPH_DIR"
}

stop_ceph() {
  stop_ceph_keep_logs
  rm -f "$LOG"/ceph-* "$LOG/bootstrap.log"
}

# -- commands ------------------------------------------------------------------------------
cmd_start() {
  mkdir -p "$SVC" "$RUN" "$LOG"
  exec 9>"$SVC/lock"
  flock -w 120 9 || die "another 'services.sh' holds $SVC/lock"
  start_redis
  start_ceph
}

cmd_stop() {
  [ -d "$SVC" ] || { say "nothing to stop"; return 0; }
  exec 9>"$SVC/lock"
  flock -w 120 9 || die "another 'services.sh' holds $SVC/lock"
  stop_ceph
  stop_redis
  rm -rf "$SVC"
  say "stopped"
}

cmd_status() {
  local ok=0
  if redis_ping; then echo "redis  up    redis://$HOST:$REDIS_PORT"; else echo "redis  down"; ok=1; fi
  if ceph_running; then echo "s3     up    http://$HOST:$S3_PORT (ceph radosgw)"
  else echo "s3     down"; ok=1; fi
  return $ok
}

cmd_env() {
  cat <<EOF
export KHO_TEST_S3_ENDPOINT=$HOST:$S3_PORT
export KHO_TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY
export KHO_TEST_S3_SECRET_KEY=$S3_SECRET_KEY
export KHO_TEST_S3_FULL_ACCESS_KEY=$S3_FULL_ACCESS_KEY
export KHO_TEST_S3_FULL_SECRET_KEY=$S3_FULL_SECRET_KEY
export KHO_TEST_S3_FULL_QUOTA_BYTES=$S3_FULL_QUOTA_BYTES
export KHO_TEST_REDIS_URL=redis://$HOST:$REDIS_PORT/15
EOF
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Real services for the tests, on 127.0.0.1 only:
#   * a single-node Ceph cluster (monitor + memstore OSD + RADOS Gateway = S3 on port 7480)
#     with a test user that has fixed keys, and a second user with a tiny quota (STORE_FULL tests);
#     and a second RADOS Gateway on port 7481, the backup destination's "second S3 server": its
#     own realm, zone and pools (kho-backup.rgw.*) and its own account;
#   * a Redis server on port 6379 (Celery broker / result backend in the tests);
#   * Elasticsearch 8 on port 9200 (the integ-test distribution from Maven Central, plus Kho's
#     Vietnamese analysis plugin built from search/es-analysis), run as an unprivileged user;
#   * an Apache Tika server (tika-server-standard 3.x from Maven Central) on port 9998.
#
#   scripts/services.sh start [SERVICE...]   start what is not running (idempotent), wait until
#                                            ready; SERVICE: redis s3 elasticsearch tika (all)
#   scripts/services.sh stop     stop what start started and remove ./.services (a disk-backed
#                                Ceph cluster's data is kept: see KHO_CEPH_OSD below)
#   scripts/services.sh purge    stop, and remove ./.services with a disk-backed cluster's data
#   scripts/services.sh status   one line per service; exit 0 only if all are up
#   scripts/services.sh env      the variables the tests read:  eval "$(scripts/services.sh env)"
#
# Data, logs and pids live under ./.services (gitignored; KHO_SERVICES_DIR overrides it).
# Downloaded Java servers are cached outside the repository, in KHO_CACHE_DIR (default
# /var/cache/kho for root, ~/.cache/kho otherwise) and Maven's ~/.m2: only the first run fetches.
# KHO_ES_PORT, KHO_ES_TRANSPORT_PORT and KHO_TIKA_PORT move those two servers to other ports.
# KHO_CEPH_MON_PORT, KHO_S3_PORT, KHO_S3_BACKUP_PORT and KHO_REDIS_PORT move the Ceph monitor,
# the two gateways and Redis: a second cluster (another KHO_SERVICES_DIR) beside the running one.
# The OSD's object store (KHO_CEPH_OSD):
#   memstore (default; the tests and CI): objects in RAM, a device of KHO_CEPH_OSD_BYTES (2 GiB);
#     a restart of the cluster starts from an empty store.
#   bluestore: objects on disk, in a sparse file of KHO_CEPH_OSD_BYTES (default 32 GiB) under
#     KHO_SERVICES_DIR/ceph/osd. The file grows by what is written, freed space included (a
#     file cannot be discarded): over a long import it can reach its full size, so that size is
#     the disk budget (bench/NOTES-s22.md: ~0.95 MB of file per document while it grows,
#     ~0.25 MB of live data per document). The OSD's caches are bounded by
#     KHO_CEPH_OSD_MEMORY (osd memory target, default 1 GiB; Ceph's floor is 896 MiB). 'stop'
#     keeps the data and the next 'start' brings the same cluster back (same buckets, users,
#     objects); 'purge' removes it. For the bulk imports that do not fit in RAM (issue #14).
# Needs the Debian packages of scripts/install-system.sh (ceph-mon ceph-osd radosgw redis-server).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SVC=${KHO_SERVICES_DIR:-$ROOT/.services}
HOST=127.0.0.1
MON_PORT=${KHO_CEPH_MON_PORT:-6789}
S3_PORT=${KHO_S3_PORT:-7480}
S3_BACKUP_PORT=${KHO_S3_BACKUP_PORT:-7481}
REDIS_PORT=${KHO_REDIS_PORT:-6379}
OSD_STORE=${KHO_CEPH_OSD:-memstore}
case "$OSD_STORE" in
  memstore) OSD_BYTES=${KHO_CEPH_OSD_BYTES:-2147483648} ;;
  bluestore) OSD_BYTES=${KHO_CEPH_OSD_BYTES:-34359738368} ;;
  *) echo "KHO_CEPH_OSD must be memstore or bluestore, not '$OSD_STORE'" >&2; exit 2 ;;
esac
OSD_MEMORY=${KHO_CEPH_OSD_MEMORY:-1073741824}
ES_VERSION=8.19.21
TIKA_VERSION=3.2.2
ES_PORT=${KHO_ES_PORT:-9200}
ES_TRANSPORT_PORT=${KHO_ES_TRANSPORT_PORT:-9300}
ES_HEAP=${KHO_ES_HEAP:-512m}
TIKA_PORT=${KHO_TIKA_PORT:-9998}
if [ "$(id -u)" = 0 ]; then CACHE=${KHO_CACHE_DIR:-/var/cache/kho}
else CACHE=${KHO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kho}; fi
# Fixed test credentials (a throw-away cluster on loopback; never used outside the tests).
S3_ACCESS_KEY=KHOTESTACCESSKEY0001
S3_SECRET_KEY=khotestsecretkey0000000000000000000000001
S3_FULL_ACCESS_KEY=KHOTESTFULLQUOTA0001
S3_FULL_SECRET_KEY=khotestfullquota000000000000000000000001
S3_FULL_QUOTA_BYTES=65536
# The backup destination's own account: its buckets are out of reach of the store's credential.
S3_BACKUP_ACCESS_KEY=KHOTESTBACKUPKEY0001
S3_BACKUP_SECRET_KEY=khotestbackupsecret000000000000000000001

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

retry() { # retry <times> <command...>: the monitor refuses admin commands now and then
  # ("EPERM: problem getting command descriptions") while it settles; a refused command
  # changed nothing, so running it again is safe.
  local times=$1 n=1
  shift
  until "$@"; do
    [ "$n" -ge "$times" ] && return 1
    n=$((n + 1))
    sleep 0.5
  done
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
$(osd_store_conf)
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

[client.rgw.backup]
# The second S3 server (backup destination): a realm, zonegroup and zone of its own, so its
# users, buckets and pools (kho-backup.rgw.*) are apart from the store's gateway.
rgw frontends = beast endpoint=$HOST:$S3_BACKUP_PORT tcp_nodelay=1
rgw data = $CEPH_DIR/rgw-backup
rgw realm = kho-backup
rgw zonegroup = kho-backup
rgw zone = kho-backup
EOF
}

osd_store_conf() { # the [global] lines of the OSD's object store (KHO_CEPH_OSD)
  if [ "$OSD_STORE" = memstore ]; then
    printf 'osd objectstore = memstore\nmemstore device bytes = %s\n' "$OSD_BYTES"
    return
  fi
  cat <<EOF
osd objectstore = bluestore
# One sparse file holds data, RocksDB and its log (no separate db/wal devices).
bluestore block path = $CEPH_DIR/osd/block
bluestore block create = true
bluestore block size = $OSD_BYTES
bluestore block db create = false
bluestore block wal create = false
# 4 KiB allocation units (set at mkfs): a file on a virtual disk reads as rotational, where the
# default unit is 64 KiB, and each audit event object (~1 KiB) would take 64 KiB of disk.
bluestore min alloc size = 4096
bluestore min alloc size hdd = 4096
# RAM bounded: the caches are sized to keep the OSD's memory near this target.
osd memory target = $OSD_MEMORY
bluestore cache autotune = true
EOF
}

# A disk-backed cluster keeps its data across stop/start; its folder says so.
persistent() { [ "$(cat "$CEPH_DIR/objectstore" 2>/dev/null)" = bluestore ]; }

ceph_running() { pid_alive "$RUN/ceph-rgw.pid" && s3_answers; }

s3_backup_answers() { # any HTTP answer from the second gateway
  local code
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$HOST:$S3_BACKUP_PORT/" 2>/dev/null) || true
  [ -n "$code" ] && [ "$code" != "000" ]
}

s3_backup() { # s3_backup <method> <path> [curl args...]: a signed request as the backup user.
  local method=$1 path=$2
  shift 2
  curl -sS -f -m 30 -X "$method" --aws-sigv4 "aws:amz:us-east-1:s3" \
    -u "$S3_BACKUP_ACCESS_KEY:$S3_BACKUP_SECRET_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@" \
    "http://$HOST:$S3_BACKUP_PORT$path"
}

start_backup_gateway() {
  # The realm is committed from its own zone's point of view (else radosgw-admin pushes the
  # period to a master gateway not started yet: EIO). 'realm create' makes the realm the
  # cluster's default, which a restarted store gateway would then join: the default is removed,
  # so client.rgw.a stays in the zone without realm and client.rgw.backup names its own.
  local zone=(--rgw-realm=kho-backup --rgw-zonegroup=kho-backup --rgw-zone=kho-backup)
  { radosgw-admin realm create --rgw-realm=kho-backup &&
    radosgw-admin zonegroup create --rgw-realm=kho-backup --rgw-zonegroup=kho-backup --master \
      --endpoints="http://$HOST:$S3_BACKUP_PORT" &&
    radosgw-admin zone create "${zone[@]}" --master --endpoints="http://$HOST:$S3_BACKUP_PORT" &&
    radosgw-admin period update --commit "${zone[@]}" &&
    rados -p .rgw.root rm default.realm; } >>"$LOG/bootstrap.log" 2>&1 \
    || die "the backup zone could not be made" "$LOG/bootstrap.log"
  spawn ceph-rgw-backup radosgw -n client.rgw.backup -f
  wait_for 60 "second S3 gateway (http://$HOST:$S3_BACKUP_PORT)" s3_backup_answers \
    || die "the second S3 gateway does not answer" "$LOG/ceph-client.rgw.backup.log" \
      "$LOG/ceph-rgw-backup.out"
  radosgw-admin user create "${zone[@]}" --uid=kho-backup --display-name="Kho tests (backup server)" \
    --access-key="$S3_BACKUP_ACCESS_KEY" --secret-key="$S3_BACKUP_SECRET_KEY" >>"$LOG/bootstrap.log" 2>&1 \
    || die "radosgw-admin user create (backup zone) failed" "$LOG/bootstrap.log"
  # The first bucket and object create the zone's pools lazily (~2 s each): once, here.
  local warm=kho-warmup-backup-$$
  {
    s3_backup PUT "/$warm" &&
      s3_backup PUT "/$warm/o" --data-binary warm &&
      s3_backup DELETE "/$warm/o" &&
      s3_backup DELETE "/$warm"
  } >>"$LOG/bootstrap.log" 2>&1 || die "the second gateway's warm-up requests failed" \
    "$LOG/bootstrap.log" "$LOG/ceph-client.rgw.backup.log"
}

restart_ceph() { # a disk-backed cluster made by an earlier start: its daemons, on its data
  local t0=$SECONDS id
  id=$(cat "$CEPH_DIR/osd-id")
  ON_DIE=stop_ceph_keep_logs
  spawn ceph-mon ceph-mon -f -i a
  wait_for 60 "ceph monitor ($HOST:$MON_PORT)" ceph --connect-timeout 2 osd ls \
    || die "the ceph monitor did not come up" "$LOG/ceph-mon.a.log" "$LOG/ceph-mon.out"
  spawn ceph-osd ceph-osd -f -i "$id"
  # bluestore mounts its file and replays RocksDB's log: longer than a memstore start.
  wait_for 180 "ceph osd.$id (bluestore, $CEPH_DIR/osd/block)" osd_up \
    || die "the ceph OSD did not come up" "$LOG/ceph-osd.$id.log" "$LOG/ceph-osd.out"
  spawn ceph-rgw radosgw -n client.rgw.a -f
  wait_for 120 "S3 gateway (http://$HOST:$S3_PORT)" s3_answers \
    || die "the S3 gateway does not answer" "$LOG/ceph-client.rgw.a.log" "$LOG/ceph-rgw.out"
  spawn ceph-rgw-backup radosgw -n client.rgw.backup -f
  wait_for 120 "second S3 gateway (http://$HOST:$S3_BACKUP_PORT)" s3_backup_answers \
    || die "the second S3 gateway does not answer" "$LOG/ceph-client.rgw.backup.log" \
      "$LOG/ceph-rgw-backup.out"
  ON_DIE=
  say "ceph (bluestore, data kept in $CEPH_DIR) restarted in $((SECONDS - t0)) s"
}

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
  if persistent; then
    [ "$OSD_STORE" = bluestore ] || die "$CEPH_DIR holds a disk-backed (bluestore) cluster:\
 start it with KHO_CEPH_OSD=bluestore, or remove it with 'services.sh purge'"
    [ -s "$CEPH_DIR/osd-id" ] || die "$CEPH_DIR holds a bluestore cluster whose first start did\
 not finish: remove it with 'services.sh purge'"
    stop_ceph_daemons  # those of a crashed run, if any; the data stays
    restart_ceph
    return 0
  fi
  # A half-started or dead cluster from an earlier run: memstore lost its data anyway.
  stop_ceph
  ON_DIE=stop_ceph_keep_logs
  local t0=$SECONDS fsid uuid id
  mkdir -p "$CEPH_DIR"/{run,crash,rgw,rgw-backup,mon} "$RUN" "$LOG"
  fsid=$(cat /proc/sys/kernel/random/uuid)
  uuid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid"
  echo "$OSD_STORE" >"$CEPH_DIR/objectstore"

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

  id=$(retry 20 ceph osd new "$uuid" 2>>"$LOG/bootstrap.log") \
    || die "ceph osd new failed" "$LOG/bootstrap.log"
  # With authentication off the monitor still checks each daemon's caps in its auth table.
  { retry 20 ceph auth add "osd.$id" mon 'allow profile osd' mgr 'allow profile osd' osd 'allow *' &&
    retry 20 ceph auth add client.rgw.a mon 'allow rw' osd 'allow rwx' mgr 'allow rw' &&
    retry 20 ceph auth add client.rgw.backup mon 'allow rw' osd 'allow rwx' mgr 'allow rw' &&
    retry 20 ceph osd crush add "osd.$id" 1.0 host=localhost root=default; } \
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

  # Each S3 test makes buckets of its own and memstore drops them at stop: the default cap of
  # 1,000 buckets per user would fail a whole test run (TooManyBuckets) once it is reached.
  radosgw-admin user create --uid=kho-test --display-name="Kho tests" --max-buckets=100000 \
    --access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" >>"$LOG/bootstrap.log" 2>&1 \
    || die "radosgw-admin user create failed" "$LOG/bootstrap.log"
  radosgw-admin user create --uid=kho-full --display-name="Kho tests (full quota)" \
    --access-key="$S3_FULL_ACCESS_KEY" --secret-key="$S3_FULL_SECRET_KEY" \
    >>"$LOG/bootstrap.log" 2>&1 || die "radosgw-admin user create failed" "$LOG/bootstrap.log"
  radosgw-admin user create --uid=kho-backup --display-name="Kho tests (backup destination)" \
    --access-key="$S3_BACKUP_ACCESS_KEY" --secret-key="$S3_BACKUP_SECRET_KEY" \
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
  start_backup_gateway
  # Written last: a bluestore cluster with this file is complete and can be restarted.
  echo "$id" >"$CEPH_DIR/osd-id"
  ON_DIE=
  say "ceph ($OSD_STORE) started in $((SECONDS - t0)) s"
}

stop_ceph_daemons() {
  stop_pid "$RUN/ceph-rgw-backup.pid"
  stop_pid "$RUN/ceph-rgw.pid"
  stop_pid "$RUN/ceph-osd.pid"
  stop_pid "$RUN/ceph-mon.pid"
}

stop_ceph_keep_logs() { # a disk-backed cluster's data (and logs) stay: only 'purge' removes them
  stop_ceph_daemons
  persistent || rm -rf "$CEPH_DIR"
}

stop_ceph() {
  stop_ceph_keep_logs
  persistent || rm -f "$LOG"/ceph-* "$LOG/bootstrap.log"
}

purge_ceph() {
  stop_ceph_daemons
  rm -rf "$CEPH_DIR"
  rm -f "$LOG"/ceph-* "$LOG/bootstrap.log"
}

# -- Java servers: fetched with Maven into the cache ---------------------------------------
java_home() { # JAVA_HOME of the default java (17 on the project's machines)
  local java
  java=$(readlink -f "$(command -v java)") || return 1
  dirname "$(dirname "$java")"
}

# Elasticsearch refuses to run as root: as root, it runs as nobody.
SERVICE_USER=()
[ "$(id -u)" = 0 ] && SERVICE_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups --)

mvn_copy() { # mvn_copy <groupId:artifactId:version:type> <dir>: into ~/.m2, then copied to dir
  command -v mvn >/dev/null || die "mvn is not installed: run scripts/install-system.sh"
  mvn -B -q dependency:copy -Dartifact="$1" -DoutputDirectory="$2" -Dmdep.overWriteReleases=true \
    >>"$LOG/maven.log" 2>&1 || die "maven could not fetch $1" "$LOG/maven.log"
}

plugin_hash() { cat "$ROOT"/search/es-analysis/src/kho/analysis/*.java | sha256sum | cut -c1-12; }  # the sources, not their path

es_home() { echo "$CACHE/elasticsearch-$ES_VERSION-kho-$(plugin_hash)"; }

fetch_es() { # the distribution, unpacked, with Kho's analysis plugin compiled into plugins/
  local home tmp
  home=$(es_home)
  [ -x "$home/bin/elasticsearch" ] && [ -s "$home/plugins/kho-analysis/kho-analysis.jar" ] && return 0
  local t0=$SECONDS
  mkdir -p "$CACHE"
  chmod 755 "$CACHE"
  tmp=$(mktemp -d "$CACHE/.es-XXXXXX")
  mvn_copy "org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" "$tmp"
  unzip -q "$tmp/elasticsearch-$ES_VERSION.zip" -d "$tmp" || die "unzip of elasticsearch failed"
  rm -f "$tmp/elasticsearch-$ES_VERSION.zip"
  local dist="$tmp/elasticsearch-$ES_VERSION" build="$tmp/build"
  mkdir -p "$build" "$dist/plugins/kho-analysis"
  javac -nowarn -d "$build" -cp "$dist/lib/*" "$ROOT"/search/es-analysis/src/kho/analysis/*.java \
    >>"$LOG/maven.log" 2>&1 || die "the Kho analysis plugin does not compile" "$LOG/maven.log"
  jar cf "$dist/plugins/kho-analysis/kho-analysis.jar" -C "$build" . || die "jar failed"
  cat >"$dist/plugins/kho-analysis/plugin-descriptor.properties" <<EOF
description=Kho Vietnamese analysis (search/es-analysis)
version=1.0
name=kho-analysis
classname=kho.analysis.KhoAnalysisPlugin
java.version=17
elasticsearch.version=$ES_VERSION
EOF
  chmod -R a+rX "$dist"
  # rename(2): atomic; if another run got there first, its copy (maybe running) is kept.
  mv -T "$dist" "$home" 2>/dev/null || [ -x "$home/bin/elasticsearch" ] \
    || die "could not put elasticsearch in $home"
  rm -rf "$tmp"
  # Earlier builds (another plugin source or version) that no running process uses.
  local old
  for old in "$CACHE"/elasticsearch-*-kho-*; do
    [ "$old" = "$home" ] || pgrep -f -- "$old/" >/dev/null || rm -rf "$old"
  done
  say "elasticsearch $ES_VERSION fetched and prepared in $((SECONDS - t0)) s ($home)"
}

tika_jar() { echo "$CACHE/tika-server-standard-$TIKA_VERSION.jar"; }

fetch_tika() {
  local jar tmp
  jar=$(tika_jar)
  [ -s "$jar" ] && return 0
  mkdir -p "$CACHE"
  tmp=$(mktemp -d "$CACHE/.tika-XXXXXX")
  mvn_copy "org.apache.tika:tika-server-standard:$TIKA_VERSION:jar" "$tmp"
  chmod a+r "$tmp/tika-server-standard-$TIKA_VERSION.jar"
  mv "$tmp/tika-server-standard-$TIKA_VERSION.jar" "$jar"
  rm -rf "$tmp"
  say "tika server $TIKA_VERSION fetched"
}

stop_group() { # stop_group <pidfile>: TERM the process group (launcher + server JVM), KILL after 20 s
  local file=$1 pid
  [ -s "$file" ] || { rm -f "$file"; return 0; }
  pid=$(cat "$file")
  if proc_alive "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 200); do
      proc_alive "$pid" || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

# -- Elasticsearch -------------------------------------------------------------------------
es_url() { echo "http://$HOST:$ES_PORT"; }

es_ready() {
  [ "$(curl -s -o /dev/null -m 3 -w '%{http_code}' \
      "$(es_url)/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null)" = 200 ]
}

es_running() { pid_alive "$RUN/elasticsearch.pid" && es_ready; }

launch_es() { # start the JVM, do not wait (start_java_services waits for it)
  if es_running; then
    say "elasticsearch already running on $HOST:$ES_PORT"
    return 0
  fi
  if es_ready; then
    die "port $HOST:$ES_PORT is taken by an Elasticsearch not started by this script"
  fi
  stop_group "$RUN/elasticsearch.pid"
  fetch_es
  local home dir="$SVC/elasticsearch"
  home=$(es_home)
  rm -rf "$dir"
  mkdir -p "$dir"/{data,logs,tmp}
  cp -r "$home/config" "$dir/config"
  [ "$(id -u)" = 0 ] && chown -R 65534:65534 "$dir"
  date +%s.%N >"$RUN/elasticsearch.t0"
  ES_JAVA_HOME=$(java_home) ES_PATH_CONF="$dir/config" ES_TMPDIR="$dir/tmp" \
    ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP ${KHO_ES_JAVA_OPTS:-}" \
    spawn elasticsearch "${SERVICE_USER[@]}" "$home/bin/elasticsearch" \
      -E cluster.name=kho-test -E node.name=kho-test-1 -E discovery.type=single-node \
      -E network.host="$HOST" -E http.port="$ES_PORT" -E transport.port="$ES_TRANSPORT_PORT" \
      -E path.data="$dir/data" -E path.logs="$dir/logs" -E xpack.security.enabled=false \
      -E cluster.routing.allocation.disk.threshold_enabled=false \
      -E action.destructive_requires_name=false -E bootstrap.memory_lock=false
}

# -- Tika ----------------------------------------------------------------------------------
tika_url() { echo "http://$HOST:$TIKA_PORT"; }

tika_ready() { curl -s -f -m 3 "$(tika_url)/version" 2>/dev/null | grep -q Tika; }

tika_running() { pid_alive "$RUN/tika.pid" && tika_ready; }

launch_tika() {
  if tika_running; then
    say "tika already running on $HOST:$TIKA_PORT"
    return 0
  fi
  if tika_ready; then
    die "port $HOST:$TIKA_PORT is taken by a Tika server not started by this script"
  fi
  stop_group "$RUN/tika.pid"
  fetch_tika
  mkdir -p "$SVC/tika"
  date +%s.%N >"$RUN/tika.t0"
  (cd "$SVC/tika" && spawn tika java -Xms32m -Xmx96m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djava.io.tmpdir="$SVC/tika" -jar "$(tika_jar)" --host "$HOST" --port "$TIKA_PORT" \
    --config "$ROOT/scripts/services/tika-config.xml")
}

wait_java() { # wait_java <name> <seconds> <ready-check> <log...>
  local name=$1 limit=$2 check=$3 deadline t0
  shift 3
  deadline=$((SECONDS + limit))
  until "$check"; do
    pid_alive "$RUN/$name.pid" || die "$name exited while starting" "$LOG/$name.out" "$@"
    [ "$SECONDS" -lt "$deadline" ] || die "$name is not ready after $limit s" "$LOG/$name.out" "$@"
    sleep 0.25
  done
  if [ -s "$RUN/$name.t0" ]; then
    t0=$(cat "$RUN/$name.t0")
    rm -f "$RUN/$name.t0"
    say "$name ready ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s after launch)"
  fi
}

stop_es() { stop_group "$RUN/elasticsearch.pid"; rm -rf "$SVC/elasticsearch"; }
stop_tika() { stop_group "$RUN/tika.pid"; rm -rf "$SVC/tika"; }

# -- commands ------------------------------------------------------------------------------
wanted() { # wanted <service>: named on the command line (or nothing named: every service)
  [ ${#SERVICES[@]} -eq 0 ] && return 0
  local s
  for s in "${SERVICES[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}

cmd_start() {
  mkdir -p "$SVC" "$RUN" "$LOG"
  exec 9>"$SVC/lock"
  flock -w 120 9 || die "another 'services.sh' holds $SVC/lock"
  local t0=$SECONDS
  # The JVMs start first, in the background (fetching them on a first run), while Redis and
  # Ceph come up; then wait for both.
  local es_pid="" tika_pid=""
  if wanted elasticsearch; then launch_es & es_pid=$!; fi
  if wanted tika; then launch_tika & tika_pid=$!; fi
  if wanted redis; then start_redis; fi
  if wanted s3; then start_ceph; fi
  if [ -n "$es_pid" ]; then
    wait "$es_pid" || die "elasticsearch did not start"
    wait_java elasticsearch 240 es_ready "$SVC/elasticsearch/logs/kho-test.log"
  fi
  if [ -n "$tika_pid" ]; then
    wait "$tika_pid" || die "tika did not start"
    wait_java tika 180 tika_ready
  fi
  say "services ready in $((SECONDS - t0)) s"
}

cmd_stop() {
  [ -d "$SVC" ] || { say "nothing to stop"; return 0; }
  exec 9>"$SVC/lock"
  flock -w 120 9 || die "another 'services.sh' holds $SVC/lock"
  if wanted elasticsearch; then stop_es; fi
  if wanted tika; then stop_tika; fi
  if wanted s3; then stop_ceph; fi
  if wanted redis; then stop_redis; fi
  if persistent; then
    say "stopped; the bluestore cluster's data stays in $CEPH_DIR ($(du -sh "$CEPH_DIR" | cut -f1)\
 on disk): 'start' brings it back, 'purge' removes it"
    return 0
  fi
  if [ ${#SERVICES[@]} -eq 0 ]; then rm -rf "$SVC"; fi
  say "stopped"
}

cmd_purge() {
  [ -d "$SVC" ] || { say "nothing to purge"; return 0; }
  exec 9>"$SVC/lock"
  flock -w 120 9 || die "another 'services.sh' holds $SVC/lock"
  if wanted elasticsearch; then stop_es; fi
  if wanted tika; then stop_tika; fi
  if wanted s3; then purge_ceph; fi
  if wanted redis; then stop_redis; fi
  if [ ${#SERVICES[@]} -eq 0 ]; then rm -rf "$SVC"; fi
  say "purged"
}

cmd_status() {
  local ok=0
  if redis_ping; then echo "redis  up    redis://$HOST:$REDIS_PORT"; else echo "redis  down"; ok=1; fi
  if ceph_running; then echo "s3     up    http://$HOST:$S3_PORT (ceph radosgw)"
  else echo "s3     down"; ok=1; fi
  if s3_backup_answers; then echo "s3-bak up    http://$HOST:$S3_BACKUP_PORT (ceph radosgw, backup zone)"
  else echo "s3-bak down"; ok=1; fi
  if es_ready; then echo "es     up    $(es_url) (elasticsearch $ES_VERSION)"
  else echo "es     down"; ok=1; fi
  if tika_ready; then echo "tika   up    $(tika_url) (tika-server $TIKA_VERSION)"
  else echo "tika   down"; ok=1; fi
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
export KHO_TEST_S3_BACKUP_ACCESS_KEY=$S3_BACKUP_ACCESS_KEY
export KHO_TEST_S3_BACKUP_SECRET_KEY=$S3_BACKUP_SECRET_KEY
$(s3_backup_answers && echo "export KHO_TEST_S3_BACKUP_ENDPOINT=$HOST:$S3_BACKUP_PORT")
export KHO_TEST_REDIS_URL=redis://$HOST:$REDIS_PORT/15
export KHO_TEST_ELASTICSEARCH_URL=$(es_url)
export KHO_TEST_ELASTICSEARCH_HOME=$(es_home)
export KHO_TEST_TIKA_URL=$(tika_url)
export KHO_TEST_SERVICES=1
EOF
}

CMD=${1:-}
[ $# -gt 0 ] && shift
SERVICES=("$@")
for s in "${SERVICES[@]}"; do
  case "$s" in
    redis | s3 | elasticsearch | tika) ;;
    *) echo "unknown service: $s (redis s3 elasticsearch tika)" >&2; exit 2 ;;
  esac
done

case "$CMD" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  purge) cmd_purge ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 start|stop|purge|status|env [redis|s3|elasticsearch|tika]..." >&2; exit 2 ;;
esac

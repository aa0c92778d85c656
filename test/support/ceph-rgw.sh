#!/usr/bin/env bash
# A private single-host Ceph (one mon, one osd on a sparse file, radosgw) for the S3 tests,
# after /work/shared/RECIPES.md. Every port is picked at run time, so two of these (or
# another engineer's) never collide.
#
#   ceph-rgw.sh start DIR   starts it in DIR (created), prints `endpoint=http://127.0.0.1:PORT`,
#                           `accesskey=…`, `secretkey=…` (S3) and `swiftauthurl=…/auth/1.0`,
#                           `swiftuser=test:swift`, `swiftkey=…` (the Swift API of the same RGW,
#                           auth v1) on stdout once RGW answers requests
#   ceph-rgw.sh stop DIR    stops it by its pid files (rgw, then osd, then mon) and removes DIR
#
# DOCKYARD_TEST_RGW_SIZE sets the osd's store (default 10G; e.g. 40G for benches that write
# 2 GiB blobs). Its block file is sparse: it takes disk space only as data is written.
#
# Logs stay in DIR/log until stop; a failed start prints the tail of each log on stderr.
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

ACCESS_KEY=dockyardtest
SECRET_KEY=dockyardtestsecret
# The Swift subuser of the same user (auth v1: X-Auth-User test:swift, X-Auth-Key).
SWIFT_USER=test:swift
SWIFT_KEY=dockyardtestswift

# Stops one daemon by its pid file: TERM, then KILL after a few seconds.
stop_daemon() {
  local pidfile="$1"
  [ -f "$pidfile" ] || return 0
  local pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

stop_all() {
  stop_daemon "$dir/run/rgw.pid"
  stop_daemon "$dir/run/osd.0.pid"
  stop_daemon "$dir/run/mon.a.pid"
}

if [ "$cmd" = stop ]; then
  stop_all
  # The osd's block file is a large sparse file; only ever remove our own directory.
  [ -f "$dir/ceph.conf" ] && rm -rf "$dir"
  exit 0
fi
[ "$cmd" = start ] || { echo "unknown command $cmd" >&2; exit 2; }

STORE_SIZE="${DOCKYARD_TEST_RGW_SIZE:-10G}"
if ! [[ "$STORE_SIZE" =~ ^[1-9][0-9]*[MGT]$ ]]; then
  echo "DOCKYARD_TEST_RGW_SIZE must be a size like 10G, 512M or 1T, not '$STORE_SIZE'" >&2
  exit 2
fi

# Free TCP ports on 127.0.0.1, asked from the kernel (bound to port 0, then released).
free_ports() {
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]); const servers = []; const ports = [];
    (function next() {
      if (ports.length === n) { for (const s of servers) s.close(); console.log(ports.join(" ")); return; }
      const s = net.createServer().listen(0, "127.0.0.1", () => { ports.push(s.address().port); servers.push(s); next(); });
    })();' "$1"
}

mkdir -p "$dir"/{run,log,mon,osd,rgw}
dir="$(cd "$dir" && pwd)"
read -r MON_V2 MON_V1 RGW_PORT <<<"$(free_ports 3)"
# The osd binds inside a port window; a window starting at a random free port keeps two
# clusters on this machine apart (bind retries within the window on a taken port).
OSD_MIN=$(( (RANDOM % 200) * 100 + 20000 ))
OSD_MAX=$(( OSD_MIN + 99 ))
FSID="$(uuidgen)"
CONF="$dir/ceph.conf"

cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]
auth cluster required = none
auth service required = none
auth client required = none
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind port min = $OSD_MIN
ms bind port max = $OSD_MAX
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
paxos propose interval = 0.1
run dir = $dir/run
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
keyring = $dir/keyring
mon data = $dir/mon/\$cluster-\$id
osd data = $dir/osd/\$cluster-\$id
[osd]
osd objectstore = bluestore
bluestore block create = true
bluestore block size = $STORE_SIZE
bluestore fsck on mkfs = false
osd op num shards = 1
osd mon shutdown timeout = 0.5
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $dir/rgw
# Virtual-host-style S3 (bucket in the Host header) for names below this domain; the tests
# of that style send Host: BUCKET.s3.localhost to 127.0.0.1 (test/support/ceph-rgw.ts).
rgw dns name = s3.localhost
# Deleted objects' data is freed by the RGW's garbage collector, by default only after 2 h;
# benches that write and delete GiBs filled the 10 GiB store with deleted data (OSD full,
# every write stalled) long before that. Collect a minute after deletion instead.
rgw gc obj min wait = 60
rgw gc processor period = 60
auth client required = none
ms mon client mode = crc
EOF

fail() {
  echo "ceph-rgw: $1" >&2
  for log in "$dir"/log/*.log; do
    [ -f "$log" ] && { echo "--- $log" >&2; tail -n 15 "$log" >&2; }
  done
  stop_all
  exit 1
}

C=(-c "$CONF")
ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]" "$dir/monmap" >/dev/null
ceph-mon "${C[@]}" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" >/dev/null 2>&1 || fail "ceph-mon --mkfs failed"
ceph-mon "${C[@]}" -i a || fail "ceph-mon did not start"

OSD_UUID="$(uuidgen)"
timeout 60 ceph "${C[@]}" osd new "$OSD_UUID" >/dev/null 2>&1 || fail "ceph osd new failed"
mkdir -p "$dir/osd/ceph-0"
ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$OSD_UUID" >/dev/null 2>&1 || fail "ceph-osd --mkfs failed"
ceph-osd "${C[@]}" -i 0 >/dev/null 2>&1 || fail "ceph-osd did not start"
for _ in $(seq 1 120); do
  timeout 10 ceph "${C[@]}" osd dump 2>/dev/null | grep -q '^osd.0 up' && break
  sleep 0.5
done
timeout 10 ceph "${C[@]}" osd dump 2>/dev/null | grep -q '^osd.0 up' || fail "osd.0 never came up"

# Pools made up front: radosgw creating them itself is slow and racy on one osd.
for pool in .rgw.root default.rgw.control default.rgw.meta default.rgw.log \
  default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
  timeout 30 ceph "${C[@]}" osd pool create "$pool" 8 8 >/dev/null 2>&1 || fail "pool $pool"
  timeout 30 ceph "${C[@]}" osd pool application enable "$pool" rgw >/dev/null 2>&1 || fail "pool $pool application"
done

radosgw "${C[@]}" -n client.rgw -f >"$dir/log/radosgw.out" 2>&1 &
echo $! >"$dir/run/rgw.pid"
timeout 60 radosgw-admin "${C[@]}" user create --uid=test --display-name=test \
  --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null 2>&1 || fail "radosgw-admin user create failed"
timeout 60 radosgw-admin "${C[@]}" subuser create --uid=test --subuser="$SWIFT_USER" --access=full \
  --key-type=swift --secret="$SWIFT_KEY" >/dev/null 2>&1 || fail "radosgw-admin subuser create failed"

for _ in $(seq 1 240); do
  if curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/"; then
    echo "endpoint=http://127.0.0.1:$RGW_PORT"
    echo "accesskey=$ACCESS_KEY"
    echo "secretkey=$SECRET_KEY"
    echo "swiftauthurl=http://127.0.0.1:$RGW_PORT/auth/1.0"
    echo "swiftuser=$SWIFT_USER"
    echo "swiftkey=$SWIFT_KEY"
    exit 0
  fi
  kill -0 "$(cat "$dir/run/rgw.pid")" 2>/dev/null || fail "radosgw exited"
  sleep 0.25
done
fail "radosgw never answered on port $RGW_PORT"

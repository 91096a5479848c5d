#!/usr/bin/env bash
# MoeMesh fault lab: N silo processes, each in its own network namespace joined by veth pairs to a
# bridge in a namespace of its own, a membership store (Redis or PostgreSQL) in another, and a
# client in another, under a steady query load of recorded MMLU-Pro questions answered by replay
# experts. Four faults in turn: kill -9 of a silo, a partition (a silo's link down 20 s, then up),
# a silo joining, and the membership store restarted. Traffic stays inside the namespaces this
# script creates; it adds no address or route to the host.
#
# usage: sudo deploy/lab/fault-lab.sh [--store redis|postgres] [--silos N] [--queries N] [--rate R]
#                                     [--plaintext] [--check] [--keep] [--no-build]
# The last line of stdout is one JSON object with a "faults" array; progress goes to stderr.
# --check exits 1 unless: answered + failed = sent for every fault, no failures for kill and join,
# no duplicates, and the mesh recovered its full membership after every fault.
set -euo pipefail

store=redis silos=3 queries=40 rate=4 tls=1 check=0 keep=0 build=1 partition_seconds=20
while [ $# -gt 0 ]; do
  case "$1" in
    --store) store=${2:?}; shift 2 ;;
    --silos) silos=${2:?}; shift 2 ;;
    --queries) queries=${2:?}; shift 2 ;;
    --rate) rate=${2:?}; shift 2 ;;
    --plaintext) tls=0; shift ;;
    --check) check=1; shift ;;
    --keep) keep=1; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fault-lab: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$store" in redis|postgres) ;; *) echo "fault-lab: --store must be redis or postgres" >&2; exit 2 ;; esac
[[ "$silos" =~ ^[0-9]+$ ]] && [ "$silos" -ge 2 ] && [ "$silos" -le 8 ] || { echo "fault-lab: --silos must be 2 to 8" >&2; exit 2; }
[[ "$queries" =~ ^[0-9]+$ ]] && [ "$queries" -ge 4 ] || { echo "fault-lab: --queries must be at least 4" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "fault-lab: needs root (network namespaces)" >&2; exit 2; }
command -v ip >/dev/null || { echo "fault-lab: needs iproute2 (ip)" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/../.." && pwd)
log() { echo "[fault-lab $(date +%H:%M:%S)] $*" >&2; }
now() { date +%s.%N; }

if [ "$build" = 1 ]; then
  log "building the CLI and the silo"
  dotnet build "$repo/clients/MoeMesh.Cli" -v q --nologo >&2
fi
silo_bin="$repo/silos/MoeMesh.Silo/bin/Debug/net10.0/MoeMesh.Silo"
cli_bin="$repo/clients/MoeMesh.Cli/bin/Debug/net10.0/moemesh"

work=$(mktemp -d /tmp/moemesh-lab.XXXXXX)
tag="mml$$"
net=10.231.77
bridge_ns="$tag-br" store_ns="$tag-store" client_ns="$tag-client"
store_ip="$net.2" client_ip="$net.3"
namespaces=()
supervisors=()
store_pid=

silo_ns() { echo "$tag-s$1"; }
silo_ip() { echo "$net.$((10 + $1))"; }

cleanup() {
  set +e
  for i in "${!supervisors[@]}"; do touch "$work/stop-$i"; done
  for pid in "${supervisors[@]}"; do kill "$pid" 2>/dev/null; done
  for ns in "${namespaces[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  done
  wait 2>/dev/null
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if [ "$keep" = 1 ]; then log "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- network: a bridge namespace and one veth pair per node ---------------------------------
add_ns() { ip netns add "$1"; namespaces+=("$1"); ip -n "$1" link set lo up; }
veth=0
add_node() { # name address; the bridge-side end is named vN (interface names are at most 15 characters)
  add_ns "$1"
  veth=$((veth + 1))
  ip link add "v$veth" netns "$bridge_ns" type veth peer name eth0 netns "$1"
  ip -n "$bridge_ns" link set "v$veth" master br0 up
  echo "v$veth" >"$work/link-$1"
  ip -n "$1" addr add "$2/24" dev eth0
  ip -n "$1" link set eth0 up
}
add_ns "$bridge_ns"
ip -n "$bridge_ns" link add br0 type bridge
ip -n "$bridge_ns" link set br0 up
add_node "$store_ns" "$store_ip"
add_node "$client_ns" "$client_ip"
for i in $(seq 1 $((silos + 1))); do add_node "$(silo_ns "$i")" "$(silo_ip "$i")"; done
log "network: bridge, store $store_ip, client $client_ip, silos $(silo_ip 1)…$(silo_ip $((silos + 1)))"

# --- membership store -----------------------------------------------------------------------
start_store() {
  if [ "$store" = redis ]; then
    ip netns exec "$store_ns" redis-server --bind "$store_ip" --port 6379 --protected-mode no \
      --appendonly yes --save "" --dir "$work/redis" --daemonize no >>"$work/store.log" 2>&1 &
  else
    ip netns exec "$store_ns" runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" \
      -o "-c listen_addresses=$store_ip -c port=5432 -k $work/pg" -w -t 30 start >&2
    return
  fi
  store_pid=$!
}
store_ready() {
  if [ "$store" = redis ]; then
    ip netns exec "$store_ns" redis-cli -h "$store_ip" ping 2>/dev/null | grep -q PONG
  else
    ip netns exec "$store_ns" "$pg_bin/pg_isready" -q -h "$store_ip" -p 5432
  fi
}
stop_store() {
  if [ "$store" = redis ]; then
    ip netns exec "$store_ns" redis-cli -h "$store_ip" shutdown >/dev/null 2>&1 || true
    wait "$store_pid" 2>/dev/null || true
  else
    ip netns exec "$store_ns" runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast -w stop >&2
  fi
}
wait_store() { for _ in $(seq 1 150); do store_ready && return 0; sleep 0.2; done; log "the store did not come up; see $work/store.log"; return 1; }

if [ "$store" = redis ]; then
  command -v redis-server >/dev/null || { echo "fault-lab: needs redis-server (apt-get install redis-server)" >&2; exit 2; }
  mkdir -p "$work/redis"
  connection="$store_ip:6379"
  provider=Redis
else
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -x "$pg_bin/initdb" ] || { echo "fault-lab: needs postgresql (apt-get install postgresql)" >&2; exit 2; }
  mkdir -p "$work/pg"; chown postgres:postgres "$work/pg"; chmod 755 "$work"
  runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$work/store.log" 2>&1
  echo "host all all $net.0/24 trust" >>"$work/pg/data/pg_hba.conf"
  connection="Host=$store_ip;Port=5432;Username=postgres;Database=postgres"
  provider=Postgres
fi
start_store
wait_store
log "$store membership store up at $store_ip"

# --- certificates: the mesh CA and one per box ----------------------------------------------
tls_env() { :; }
if [ "$tls" = 1 ]; then
  "$cli_bin" certs init --dir "$work/certs" >/dev/null
  for i in $(seq 1 $((silos + 1))); do "$cli_bin" certs issue "silo$i" --dir "$work/certs" --ip "$(silo_ip "$i")" >/dev/null; done
  "$cli_bin" certs issue client --dir "$work/certs" --ip "$client_ip" >/dev/null
  tls_env() { echo "MoeMesh__Tls__CertificatePath=$work/certs/$1.crt MoeMesh__Tls__KeyPath=$work/certs/$1.key MoeMesh__Tls__CaPath=$work/certs/ca.crt"; }
  log "mutual TLS: mesh CA and box certificates in $work/certs"
fi

# --- silos, each under a supervisor that restarts it as systemd's Restart= would ---------------
"$cli_bin" lab experts --out "$work/experts" --experts 3 --replicas 2 >&2
profiles=(cpu-box rtx-4090-desktop jetson-agx-orin-64gb)
start_silo() { # index
  local i=$1 ns ip
  ns=$(silo_ns "$i"); ip=$(silo_ip "$i")
  (
    while [ ! -e "$work/stop-$i" ]; do
      # shellcheck disable=SC2046
      env $(tls_env "silo$i") ip netns exec "$ns" "$silo_bin" \
        "--MoeMesh:Device:Profile=${profiles[$(( (i - 1) % 3 ))]}" \
        "--MoeMesh:Experts:Manifests:0=$work/experts" \
        "--MoeMesh:Clustering:Provider=$provider" "--MoeMesh:Clustering:ConnectionString=$connection" \
        "--MoeMesh:Endpoints:AdvertisedAddress=$ip" \
        "--MoeMesh:Tls:AllowPlaintext=$([ "$tls" = 1 ] && echo false || echo true)" \
        "--MoeMesh:Energy:Meter=Model" "--MoeMesh:Dashboard:OrleansDashboard=false" "--MoeMesh:Replay:Enabled=true" \
        "--Logging:LogLevel:Default=Warning" "--Logging:LogLevel:Orleans.Runtime.MembershipService=Information" \
        >>"$work/silo$i.log" 2>&1 || true
      [ -e "$work/stop-$i" ] || { echo "[supervisor] silo $i exited; restarting" >>"$work/silo$i.log"; sleep 1; }
    done
  ) &
  supervisors[$i]=$!
}
kill_silo() { # index: stop its supervisor first, so nothing brings it back
  touch "$work/stop-$1"
  for pid in $(ip netns pids "$(silo_ns "$1")"); do kill -9 "$pid" 2>/dev/null || true; done
}

gateways=()
for i in $(seq 1 "$silos"); do start_silo "$i"; gateways+=(--gateway "$(silo_ip "$i"):30000"); done
gateways+=(--gateway "$(silo_ip $((silos + 1))):30000")
client() { env $(tls_env client) ip netns exec "$client_ns" "$cli_bin" "$@"; }
log "waiting for $silos silos"
client lab wait "${gateways[@]:0:2}" --silos "$silos" --timeout 180 >&2 || { tail -n 20 "$work"/silo*.log >&2; exit 1; }

# --- faults ---------------------------------------------------------------------------------
results=()
# Seconds from the fault (epoch $2) until the silos' membership evicted the silo at address $1: the
# latest death vote of the first eviction after the fault, read from the silos' membership log. The
# client's own view (detectSeconds) can lag behind it while the client's gateway is the cut-off silo.
evicted_seconds() {
  local at
  at=$(grep -h "Evicting 'S$1:" "$work"/silo*.log 2>/dev/null \
    | while IFS= read -r line; do
        grep -o '[0-9]\{4\}-[0-9][0-9]-[0-9][0-9] [0-9:.]* GMT' <<<"$line" \
          | while read -r d t _; do date -u -d "$d $t" +%s.%N; done | sort -n | tail -n 1
      done | awk -v after="$2" '$1 >= after' | sort -n | head -n 1) || true
  if [ -n "$at" ]; then awk -v a="$at" -v f="$2" 'BEGIN { printf "%.2f", a - f }'; else echo null; fi
}
run_fault() { # name expected-silos inject-function
  local name=$1 expect=$2 inject=$3 marks="$work/marks-$1" out="$work/load-$1.json"
  : >"$marks"
  rm -f "$work/ready-$name"
  client lab load "${gateways[@]}" --queries "$queries" --rate "$rate" --marks "$marks" --expect-silos "$expect" --settle 75 \
    --ready-file "$work/ready-$name" >"$out" 2>>"$work/client.log" &
  local load=$!
  for _ in $(seq 1 300); do [ -e "$work/ready-$name" ] || ! kill -0 "$load" 2>/dev/null && break; sleep 0.1; done
  sleep "$(awk -v q="$queries" -v r="$rate" 'BEGIN { print q / r / 3 }')"
  "$inject" "$marks"
  local rc=0
  wait "$load" || rc=$?
  if [ "$rc" != 0 ]; then log "$name: the load failed (exit $rc); see $work/client.log"; tail -n 5 "$work/client.log" >&2; return 1; fi
  local entry evicted=null
  entry=$(tail -n 1 "$out")
  case "$name" in
    kill) evicted=$(evicted_seconds "$(silo_ip "$victim")" "$(awk 'NR == 1 { print $2 }' "$marks")") ;;
    partition) evicted=$(evicted_seconds "$(silo_ip 2)" "$(awk 'NR == 1 { print $2 }' "$marks")") ;;
  esac
  entry="${entry%\}},\"evictedSeconds\":$evicted}"
  results+=("$entry")
  log "$name: $entry"
}
victim=$silos
inject_kill() { echo "kill $(now)" >>"$1"; kill_silo "$victim"; }
inject_join() { echo "join $(now)" >>"$1"; start_silo $((silos + 1)); }
inject_partition() {
  local link
  link=$(cat "$work/link-$(silo_ns 2)")
  echo "partition $(now)" >>"$1"; ip -n "$bridge_ns" link set "$link" down
  sleep "$partition_seconds"
  ip -n "$bridge_ns" link set "$link" up; echo "heal $(now)" >>"$1"
}
inject_store() { echo "store-restart $(now)" >>"$1"; stop_store; start_store; wait_store; echo "ready $(now)" >>"$1"; }

run_fault kill $((silos - 1)) inject_kill
run_fault join "$silos" inject_join
run_fault partition "$silos" inject_partition
run_fault store-restart "$silos" inject_store

summary="{\"store\":\"$store\",\"silos\":$silos,\"queries\":$queries,\"rate\":$rate,\"tls\":$([ "$tls" = 1 ] && echo true || echo false),\"faults\":[$(IFS=,; echo "${results[*]}")]}"

status=0
if [ "$check" = 1 ]; then
  field() { [[ $1 =~ \"$2\":([0-9.]+|null) ]] && echo "${BASH_REMATCH[1]}"; }
  for r in "${results[@]}"; do
    f=$(sed -E 's/.*"fault":"([^"]+)".*/\1/' <<<"$r")
    sent=$(field "$r" sent); answered=$(field "$r" answered); failed=$(field "$r" failed); dup=$(field "$r" duplicates); rec=$(field "$r" recoverSeconds)
    problems=()
    [ $((answered + failed)) -eq "$sent" ] || problems+=("answered + failed != sent")
    [ "$dup" = 0 ] || problems+=("$dup duplicates")
    { [ "$f" != kill ] && [ "$f" != join ]; } || [ "$failed" = 0 ] || problems+=("$failed failed")
    [ "$rec" != null ] || problems+=("did not recover the full membership")
    if [ ${#problems[@]} -gt 0 ]; then log "CHECK FAILED for $f: ${problems[*]}"; status=1; else log "check passed for $f"; fi
  done
  [ "$status" = 0 ] || keep=1
fi
echo "$summary"
exit $status

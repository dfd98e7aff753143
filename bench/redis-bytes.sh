#!/bin/sh
# bench/redis-bytes.sh: the bytes each node of a cluster receives from
# Redis, classic adapter against sharded, as the nodes, the rooms and the
# users per room grow (issue 14: the classic adapter's pattern
# subscription sends every room's traffic to every node; the sharded one,
# SSUBSCRIBE per room, only to the nodes with members in it).
#
# For each server kind in SERVERS (anchor: bench/anchor-node with
# @socket.io/redis-adapter; gateway: socket-gatewayd -w 1), each adapter in
# MODES, each node count in NODES, room count in ROOMS and users per room
# in USERS: a fresh redis-server and that many nodes on loopback, then
# socket-gateway-bench fanout with one -t per node (member k of room g on
# node (g + k) mod nodes: a room spans min(users, nodes) nodes, as a load
# balancer spreads users), MSGS messages at RATE per second, the rooms
# taking turns; then, for each node count, MSGS direct messages among
# DM_CONNS users in pairs (each to its partner's user:<id> room, the
# partners on different nodes).  Counted between the end of the joins and the drain
# (--phase-cmd), so connects and subscriptions are not in it:
#   bytes        what each node's sockets to Redis received (tcp_info
#                bytes_received from ss(8), the same for both kinds: the
#                messages, whatever else the node hears there, protocol
#                framing included), per node (mean, max) and in all
#   metrics      the gateway's own count, redis_bytes_in in /metrics
#                (totals), the mean per node, as a cross-check (read 2.5 s
#                after each mark: /metrics lags by up to 2 s)
# Redis 7.0 has no per-client byte counter (tot-net-out came later), and
# MONITOR would cost more than it measures, hence the node's own sockets.
#
# Output: markdown (bench/redis-bytes.js) on stdout and in OUT
# (bench/REDIS-BYTES.md), one JSON line per run in ${OUT%.md}.jsonl.
#
# Environment: BENCH, SGWD (default: the build tree beside this script),
# NODE (node), REDIS_SERVER (/usr/bin/redis-server), SERVERS ("anchor
# gateway"), MODES ("classic sharded"), NODES ("2 4"), ROOMS ("10 100"),
# USERS (users per room, "2 8 40"), MSGS (1000), RATE (200 messages/s), SIZE
# (64 content bytes), DM_CONNS (400 users in pairs for the direct messages'
# rows; 0: none), OUT.  Every process it starts is stopped on exit,
# every run bounded (--max-time).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")

# The hook socket-gateway-bench runs: --snap DIR PORT PHASE.  A snapshot
# of every socket to Redis (owner pid, bytes received) and of each
# gateway's redis_bytes_in.
if [ "${1:-}" = --snap ]; then
	dir=$2
	# A worker reports its figures to the master each second, the master
	# sums them each second: /metrics is up to 2 s behind.  Let it catch
	# up (no message flows meanwhile: the load waits for this).
	grep -q ' gateway$' "$dir/nodes" && sleep 2.5
	ss -tinpH state established "( dport = :$3 )" |
	    awk '/users:\(\(/ { match($0, /pid=[0-9]+/);
		pid = substr($0, RSTART + 4, RLENGTH - 4); next }
		pid != "" && match($0, /bytes_received:[0-9]+/) {
		print pid, substr($0, RSTART + 15, RLENGTH - 15); pid = "" }' \
	    > "$dir/ss.$4"
	: > "$dir/metrics.$4"
	while read -r n pid port kind; do
		[ "$kind" = gateway ] || continue
		v=$(curl -s -m 2 "http://127.0.0.1:$port/metrics" |
		    sed -n 's/.*"totals":{[^}]*"redis_bytes_in":\([0-9]*\).*/\1/p')
		echo "$n ${v:-}" >> "$dir/metrics.$4"
	done < "$dir/nodes"
	exit 0
fi

BENCH=${BENCH:-$top/socket-gateway-bench}
SGWD=${SGWD:-$top/socket-gatewayd}
NODE=${NODE:-node}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
SERVERS=${SERVERS:-anchor gateway}
MODES=${MODES:-classic sharded}
NODES=${NODES:-2 4}
ROOMS=${ROOMS:-10 100}
USERS=${USERS:-2 8 40}
MSGS=${MSGS:-1000}
DM_CONNS=${DM_CONNS:-400}
RATE=${RATE:-200}
SIZE=${SIZE:-64}
OUT=${OUT:-$here/REDIS-BYTES.md}
SECRET=bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

log() { echo "redis-bytes.sh: $*" >&2; }

for p in "$BENCH" "$REDIS_SERVER"; do
	if [ ! -x "$p" ]; then
		log "$p is not there (make, or set BENCH/REDIS_SERVER)"
		exit 1
	fi
done
case " $SERVERS " in *" gateway "*)
	if [ ! -x "$SGWD" ]; then
		log "$SGWD is not built (make, or set SGWD)"
		exit 1
	fi ;;
esac
case " $SERVERS " in *" anchor "*)
	if [ ! -d "$here/anchor-node/node_modules/@socket.io/redis-adapter" ] ||
	    [ ! -d "$here/anchor-node/node_modules/redis" ] ||
	    [ ! -d "$here/anchor-node/node_modules/socket.io" ]; then
		log "installing the anchor's packages (npm ci)"
		(cd "$here/anchor-node" && npm ci --no-audit --no-fund \
		    --omit=dev >&2) || exit 1
	fi ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sgw-redis-bytes.XXXXXX") || exit 1
pids=
redis_pid=
cleanup() {
	stop_all
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
printf '%s\n' "$SECRET" > "$tmp/secret"

if [ "$(nproc)" -ge 2 ]; then
	LOAD_PIN="taskset -c 0"
	NODE_PIN="taskset -c 1"
else
	LOAD_PIN=
	NODE_PIN=
fi

. "$here/ports.sh"	# free_port

wait_port() {
	w=0
	while ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; do
		w=$((w + 1))
		if [ $w -gt 100 ] || ! kill -0 "$2" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
	done
}

stop_pid() {
	kill "$1" 2>/dev/null
	w=0
	while kill -0 "$1" 2>/dev/null && [ $w -lt 50 ]; do
		sleep 0.1
		w=$((w + 1))
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

stop_all() {
	for p in $pids; do
		stop_pid "$p"
	done
	pids=
	if [ -n "$redis_pid" ]; then
		stop_pid "$redis_pid"
		redis_pid=
	fi
}

start_redis() {
	redis_port=$(free_port)
	mkdir -p "$tmp/redis"
	$LOAD_PIN "$REDIS_SERVER" --port "$redis_port" --bind 127.0.0.1 \
	    --save "" --appendonly no --dir "$tmp/redis" \
	    >> "$tmp/redis.log" 2>&1 &
	redis_pid=$!
	if ! wait_port "$redis_port" "$redis_pid"; then
		log "redis-server did not start:"
		tail -5 "$tmp/redis.log" >&2
		return 1
	fi
}

# start_node KIND MODE N: node N of KIND joined through Redis with MODE.
start_node() {
	port=$(free_port)
	url=redis://127.0.0.1:$redis_port
	case $1 in
	gateway)
		d=$tmp/gw$3
		rm -rf "$d"
		mkdir -p "$d/spool"
		cat > "$d/gw.conf" <<EOF
listen 127.0.0.1:$port
jwt_secret "$SECRET"
run_dir "$d"
spool_dir "$d/spool"
max_connections_per_address 0
max_unconnected_per_address 0
presence_mode scoped
log_level warn
event_rate 1000000
event_burst 1000000
redis_url "$url"
node_id "node$3"
redis_adapter $2
EOF
		$NODE_PIN "$SGWD" -c "$d/gw.conf" -w 1 2>> "$tmp/node$3.log" &
		;;
	anchor)
		env PORT="$port" JWT_SECRET="$SECRET" PRESENCE_MODE=scoped \
		    REDIS_URL="$url" REDIS_ADAPTER="$2" $NODE_PIN $NODE \
		    "$here/anchor-node/server.js" 2>> "$tmp/node$3.log" &
		;;
	esac
	p=$!
	pids="$pids $p"
	if ! wait_port "$port" "$p"; then
		log "$1 node $3 did not start:"
		tail -5 "$tmp/node$3.log" >&2
		return 1
	fi
	echo "$3 $p $port $1" >> "$tmp/nodes"
	targets="$targets -t 127.0.0.1:$port"
}

# The bytes node N's processes (a gateway's master and workers) received
# between the two snapshots.
node_bytes() {
	root=$(awk -v n="$1" '$1 == n { print $2 }' "$tmp/nodes")
	all=" $root $(ps -o pid= --ppid "$root" | tr '\n' ' ')"
	awk -v all="$all" '
		FNR == 1 { f++ }
		index(all, " " $1 " ") == 0 { next }
		f == 1 { b0 += $2 }
		f == 2 { b1 += $2 }
		END { print b1 - b0 }' "$tmp/ss.run" "$tmp/ss.drained"
}

node_metric() {
	a=$(awk -v n="$1" '$1 == n { print $2 }' "$tmp/metrics.run")
	b=$(awk -v n="$1" '$1 == n { print $2 }' "$tmp/metrics.drained")
	if [ -n "$a" ] && [ -n "$b" ]; then
		echo $((b - a))
	fi
}

# one SCENARIO CONNS GROUPS USERS ROOMS: a run of kind, mode, n nodes; its JSON
# line into results.jsonl.
one() {
	: > "$tmp/nodes"
	targets=
	line=
	rm -f "$tmp/ss.run" "$tmp/ss.drained"
	ok=1
	start_redis || ok=0
	k=1
	while [ $ok = 1 ] && [ $k -le "$n" ]; do
		start_node "$kind" "$mode" $k || ok=0
		k=$((k + 1))
	done
	if [ $ok = 1 ]; then
		sleep 1		# every node subscribed
		# shellcheck disable=SC2086
		$LOAD_PIN "$BENCH" -q --json -l "$kind" $targets \
		    --secret-file "$tmp/secret" -c "$2" -g "$3" \
		    -r "$RATE" -d "$dur" --warmup 0 -S "$SIZE" \
		    --max-time 120 --phase-cmd "sh $here/redis-bytes.sh \
--snap $tmp $redis_port" "$1" > "$tmp/out" 2>> "$tmp/bench.log"
		line=$(grep '^{' "$tmp/out" | tail -1)
	fi
	if [ $ok = 1 ] && [ -n "$line" ] && [ -s "$tmp/ss.drained" ]; then
		per=
		met=
		k=1
		while [ $k -le "$n" ]; do
			per="$per $(node_bytes $k)"
			met="$met $(node_metric $k)"
			k=$((k + 1))
		done
		sent=$(echo "$line" | sed -n 's/.*"sent":\([0-9]*\).*/\1/p')
		lost=$(echo "$line" | sed -n 's/.*"lost":\([0-9]*\).*/\1/p')
		echo "$per" | awk -v kind="$kind" -v mode="$mode" -v n="$n" \
		    -v scen="$1" -v rooms="$5" -v users="$4" -v sent="$sent" \
		    -v lost="$lost" -v met="$met" '{
			for (i = 1; i <= NF; i++) {
				s += $i
				if ($i > max) max = $i
			}
			k = split(met, m, " ")
			ms = 0
			for (i = 1; i <= k; i++) ms += m[i]
			printf "{\"server\":\"%s\",\"adapter\":\"%s\"," \
			    "\"scenario\":\"%s\",\"nodes\":%d," \
			    "\"rooms\":%d,\"users\":%d,\"sent\":%d," \
			    "\"lost\":%d,\"bytes_mean\":%.0f," \
			    "\"bytes_max\":%d,\"bytes_all\":%d," \
			    "\"per_node\":[%s],\"metrics_mean\":%s}\n", kind,
			    mode, scen, n, rooms, users, sent, lost, s / NF,
			    max, s, join($0),
			    k == n ? sprintf("%.0f", ms / k) : "null"
		}
		function join(x,   y) { y = x; gsub(/^ +| +$/, "", y);
			gsub(/ +/, ",", y); return y }' >> "$tmp/results.jsonl"
	else
		log "$kind $mode $n nodes, $1 $3 rooms of $4 users: failed"
		tail -3 "$tmp/bench.log" >&2
	fi
	stop_all
}

: > "$tmp/results.jsonl"
dur=$(awk -v m="$MSGS" -v r="$RATE" 'BEGIN { printf "%.3f", m / r }')
for kind in $SERVERS; do
for n in $NODES; do
	for rooms in $ROOMS; do
	for users in $USERS; do
	for mode in $MODES; do
		log "$kind $mode: $n nodes, $rooms rooms of $users users"
		one fanout $((rooms * users)) "$rooms" "$users" "$rooms"
	done
	done
	done
	# Direct messages: each to user:<receiver>, a room of one user,
	# the partners on different nodes.
	[ "$DM_CONNS" -gt 0 ] && for mode in $MODES; do
		log "$kind $mode: $n nodes, direct messages among $DM_CONNS"
		one dm "$DM_CONNS" 1 1 0
	done
done
done

cp "$tmp/results.jsonl" "${OUT%.md}.jsonl"
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "nproc=$(nproc)"
	echo "redis=$("$REDIS_SERVER" --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')"
	echo "adapter=$(cd "$here/anchor-node" && $NODE -p \
	    'require("@socket.io/redis-adapter/package.json").version' \
	    2>/dev/null)"
	echo "msgs=$MSGS"
	echo "size=$SIZE"
	echo "rate=$RATE"
	echo "dm_conns=$DM_CONNS"
} > "$tmp/meta"
$NODE "$here/redis-bytes.js" "$tmp/meta" "$tmp/results.jsonl" > "$tmp/out.md" &&
    cp "$tmp/out.md" "$OUT" && cat "$OUT"

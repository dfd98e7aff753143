#!/bin/sh
# bench/run.sh: every socket-gateway-bench scenario against
#   gateway-1w   socket-gatewayd -w 1, pinned to CPU 1 (the load on CPU 0)
#   gateway-all  socket-gatewayd -w 0 (one worker per CPU), not pinned
#   anchor       the Node.js socket.io 4.8 anchor (bench/anchor-node), CPU 1
#   floor        bench/floor/floor-server, raw epoll, CPU 1
# and writes bench/RESULTS.md (the machine, the exact commands, the figures
# and the ratios) and bench/RESULTS.jsonl (each run's JSON line).  `make bench` runs it with the programs just built.
#
# dm-persist runs the servers again with a chat service configured: the
# stub bench/stub/chat-stub, on the load's CPU 0 (its CPU is reported apart,
# not as server CPU); the floor persists nothing and has no dm-persist.
#
# fanout-redis (issue 14): fanout across two instances joined through
# Redis, for each adapter in REDIS_MODES (classic: createAdapter's pattern
# subscription; sharded: createShardedAdapter, SSUBSCRIBE per room): two
# gateways (-w 1 each, node_id distinct; from gateway-1w in SERVERS) and
# two anchors (REDIS_URL, REDIS_ADAPTER; from anchor in SERVERS), all on
# CPU 1, each group's members alternating between the two (so half of
# every message's recipients are reached through Redis), senders on both.
# A fresh redis-server (REDIS_SERVER, on a free loopback port, --save ""
# --appendonly no) for each pair, on the load's CPU 0, its CPU reported
# apart; the server CPU is both instances' summed.
#
# Environment: BENCH, SGWD, FLOOR, STUB (the programs; default: the build
# tree beside this script), OUT (default bench/RESULTS.md), DUR (measured
# seconds per run, default 8), CONNS (idle connections, default 18000),
# SERVERS (default "gateway-1w gateway-all anchor floor"), SCENARIOS
# (default "conns dm fanout churn dm-persist fanout-redis"; e.g.
# SCENARIOS=dm-persist runs that one alone), NODE (node), REDIS_SERVER
# (/usr/bin/redis-server; not there: fanout-redis fails the run), MERGE (1:
# keep the previous RESULTS.jsonl's runs of the scenarios not run now, so
# that e.g. SCENARIOS=fanout-redis MERGE=1 adds its table to the rest);
# the loads: DM_CONNS (2000), DM_RATE (5000 messages/s), FAN_CONNS
# (10000), FAN_GROUPS (100), FAN_RATE (150 messages/s), CHURN_CONNS (100),
# CHURN_RATE (200 cycles/s), BIG_CONNS (30000, gateway-all only; 0: skip),
# PERSIST_RATES (dm-persist's fixed rates, "1000 5000": one the anchor
# keeps up with, and dm's), PERSIST_FLAT (1: dm-persist flat out too; 0:
# skip), PERSIST_WARMUP (3 s: the anchor's JIT and its backlog of the
# connect phase are over before the window); fanout-redis: REDIS_MODES
# ("classic sharded"), FANR_CONNS (FAN_CONNS), FANR_GROUPS (FAN_GROUPS),
# FANR_RATE (FAN_RATE), FANR_FLAT (0; 1: flat out too), FANR_WARMUP (10 s:
# after 10,000 connects, two anchors, and two gateways, are seconds behind
# for a few seconds; at 3 s their p99 still measured that backlog);
# storm (issue 16): STORM_USERS (10000) distinct users connect at once to
# gateway-1w and the anchor in presence mode all, and the run waits at
# most STORM_LIMIT (120) s after the last connect for every client to know
# every user; its table gives the time, the clients cut, the bytes the
# clients read against the least they could, and the servers' peak RSS;
# recovery: conns and dm at DM_RATE again, on gateway-1w and the anchor
# with connection state recovery off (every other run has it on: the
# gateway's default, the anchor's RECOVERY=1), labelled <server>-norec;
# scale (issue 16): SCALE_CONNS (250000) idle connections to one gateway
# of SCALE_WORKERS (14) workers, held SCALE_HOLD (60) s, then SCALE_REJOIN
# (25000) of them leave at once and come back; the load spreads itself
# over processes and 127.0.0.x source addresses;
# dmcost (issue 16): dm at DMC_RATE (10000) messages/s, DMC_ROUNDS (3)
# rounds, each a fresh server, the servers taking turns in each round:
# gateway-1w, gateway-1w-norec (connection state recovery off),
# gateway-2w (2 workers pinned together to CPU 1: about half the messages
# cross workers), gateway-2w-collect (the same with io_collect_interval
# DMC_COLLECT, 1ms), the floor and the anchor; the table gives
# each server's median CPU per message over its rounds;
# bytes (issue 16): where the memory per idle connection goes, CONNS
# connections each to lws's own minimum (LWSMIN, bench/lwsmin: plain, and
# -e as the gateway runs lws), gateway-1w without and with recovery, and
# gateway-14w (SCALE_WORKERS workers, every user's presence in each).
# Every server gets a free port, is stopped on exit (trap), and every
# bench run is bounded by --max-time.  Needs node and npm (the anchor's
# packages are installed with `npm ci` on first use).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
BENCH=${BENCH:-$top/socket-gateway-bench}
SGWD=${SGWD:-$top/socket-gatewayd}
FLOOR=${FLOOR:-$top/bench/floor/floor-server}
STUB=${STUB:-$top/bench/stub/chat-stub}
LWSMIN=${LWSMIN:-$top/bench/lwsmin/lwsmin-server}
NODE=${NODE:-node}
OUT=${OUT:-$here/RESULTS.md}
DUR=${DUR:-8}
CONNS=${CONNS:-18000}
SERVERS=${SERVERS:-gateway-1w gateway-all anchor floor}
SCENARIOS=${SCENARIOS:-conns dm fanout churn dm-persist fanout-redis storm recovery scale dmcost bytes}
DM_CONNS=${DM_CONNS:-2000}
DM_RATE=${DM_RATE:-5000}
FAN_CONNS=${FAN_CONNS:-10000}
FAN_GROUPS=${FAN_GROUPS:-100}
FAN_RATE=${FAN_RATE:-150}
CHURN_CONNS=${CHURN_CONNS:-100}
CHURN_RATE=${CHURN_RATE:-200}
BIG_CONNS=${BIG_CONNS:-30000}
PERSIST_RATES=${PERSIST_RATES:-1000 5000}
PERSIST_FLAT=${PERSIST_FLAT:-1}
PERSIST_WARMUP=${PERSIST_WARMUP:-3}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
STORM_USERS=${STORM_USERS:-10000}
STORM_LIMIT=${STORM_LIMIT:-120}
SCALE_CONNS=${SCALE_CONNS:-250000}
SCALE_WORKERS=${SCALE_WORKERS:-14}
SCALE_HOLD=${SCALE_HOLD:-60}
SCALE_REJOIN=${SCALE_REJOIN:-25000}
DMC_RATE=${DMC_RATE:-10000}
DMC_ROUNDS=${DMC_ROUNDS:-3}
DMC_COLLECT=${DMC_COLLECT:-1ms}
REDIS_MODES=${REDIS_MODES:-classic sharded}
FANR_CONNS=${FANR_CONNS:-$FAN_CONNS}
FANR_GROUPS=${FANR_GROUPS:-$FAN_GROUPS}
FANR_RATE=${FANR_RATE:-$FAN_RATE}
FANR_FLAT=${FANR_FLAT:-0}
FANR_WARMUP=${FANR_WARMUP:-10}
MERGE=${MERGE:-0}
SECRET=bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

for p in "$BENCH" "$SGWD" "$FLOOR" "$STUB" "$LWSMIN"; do
	if [ ! -x "$p" ]; then
		echo "run.sh: $p is not built (make, or set BENCH/SGWD/FLOOR/STUB/LWSMIN)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sgw-bench.XXXXXX") || exit 1
server_pid=
stub_pid=
chat_url=
# fanout-redis: the Redis server, the adapter, the second instance.
redis_pid=
redis_url=
redis_mode=
pid2=
port2=
server_pids=
bench_more=
cleanup() {
	stop_pair
	stop_stub
	stop_redis
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Two CPUs or more: the servers on CPU 1, the load on CPU 0.
ncpu=$(nproc)
if [ "$ncpu" -ge 2 ]; then
	LOAD_PIN="taskset -c 0"
	SERVER_CPU=1
else
	LOAD_PIN=
	SERVER_CPU=
fi

log() { echo "run.sh: $*" >&2; }

. "$here/ports.sh"	# free_port

# wait_port PORT [PID]: until something listens on PORT (PID: the server).
wait_port() {
	i=0
	while ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "${2:-$server_pid}" 2>/dev/null
		then
			return 1
		fi
		sleep 0.1
	done
}

stop_server() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null
		i=0
		while kill -0 "$server_pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
		server_pid=
	fi
}

# start_stub: the stub chat service on a free port, on the load's CPU; sets
# stub_port, stub_pid and chat_url.
start_stub() {
	stub_port=$(free_port)
	cmd="$LOAD_PIN $STUB -p $stub_port"
	log "starting the stub chat service: $cmd"
	echo "# chat-stub" >> "$tmp/commands"
	echo "$cmd" >> "$tmp/commands"
	sh -c "exec $cmd" 2>>"$tmp/chat-stub.log" &
	stub_pid=$!
	if ! wait_port "$stub_port" "$stub_pid"; then
		log "the stub chat service did not start; its log:"
		tail -20 "$tmp/chat-stub.log" >&2
		stop_stub
		return 1
	fi
	chat_url=http://127.0.0.1:$stub_port
}

stop_stub() {
	if [ -n "$stub_pid" ]; then
		kill "$stub_pid" 2>/dev/null
		wait "$stub_pid" 2>/dev/null
		tail -1 "$tmp/chat-stub.log" >&2
		stub_pid=
		chat_url=
	fi
}

# start_redis: a fresh redis-server on a free loopback port, nothing
# saved, on the load's CPU; sets redis_port, redis_pid and redis_url.
start_redis() {
	redis_port=$(free_port)
	mkdir -p "$tmp/redis"
	cmd="$LOAD_PIN $REDIS_SERVER --port $redis_port --bind 127.0.0.1 \
--save \"\" --appendonly no --dir $tmp/redis"
	log "starting redis: $cmd"
	echo "# redis-server" >> "$tmp/commands"
	echo "$cmd" | sed "s|$tmp|\$TMP|g" >> "$tmp/commands"
	sh -c "exec $cmd" >>"$tmp/redis.log" 2>&1 &
	redis_pid=$!
	if ! wait_port "$redis_port" "$redis_pid"; then
		log "redis-server did not start; its log:"
		tail -20 "$tmp/redis.log" >&2
		stop_redis
		return 1
	fi
	redis_url=redis://127.0.0.1:$redis_port
}

stop_redis() {
	if [ -n "$redis_pid" ]; then
		kill "$redis_pid" 2>/dev/null
		wait "$redis_pid" 2>/dev/null
		redis_pid=
		redis_url=
	fi
}

# start_pair NAME MODE: two instances of NAME joined through redis_url
# with adapter MODE; sets port and port2, server_pid and pid2, server_pids.
start_pair() {
	redis_mode=$2
	start_server "$1" 1 || return 1
	p1=$server_pid
	q1=$port
	server_pid=
	if ! start_server "$1" 2; then
		server_pid=$p1
		stop_server
		return 1
	fi
	pid2=$server_pid
	port2=$port
	server_pid=$p1
	port=$q1
	server_pids=$server_pid,$pid2
	sleep 1		# both subscribed
}

# The gateways' own figures after a fanout-redis run, to the log: a "lost"
# in the bench's table is then either the servers' (redis_lost, slow
# readers) or a stall the tool wrote off (the servers lost nothing).
pair_figures() {
	for p in $port $port2; do
		grep -h '"redis' "$tmp"/*-[12].log 2>/dev/null | sort | uniq -c |
		    sort -rn | head -5 >&2
		curl -s "http://127.0.0.1:$p/metrics" | node -e '
let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => {
  const t = JSON.parse(s).totals || {};
  const k = ["redis_published", "redis_received", "redis_ignored",
    "redis_lost", "redis_connects", "redis_disconnects", "redis_timeouts",
    "redis_malformed", "redis_unsupported", "slow_readers", "messages"];
  console.error("run.sh: instance :" + process.argv[1] + " " +
    k.map((n) => n + "=" + t[n]).join(" "));
});' "$p"
	done
}

stop_pair() {
	if [ -n "$pid2" ]; then
		p1=$server_pid
		server_pid=$pid2
		stop_server
		server_pid=$p1
		pid2=
		port2=
	fi
	stop_server
	server_pids=
	redis_mode=
}

# start_server NAME [INSTANCE]: starts it on a free port; sets port,
# server_pid, pin.  With chat_url set, its chat service is that one; with
# redis_url, it joins the others there (node_id NAME-INSTANCE).
start_server() {
	name=$1
	inst=${2:+-$2}
	port=$(free_port)
	pin=
	cpus=
	# <server>-norec: connection state recovery off (the cost of it).
	rec=1
	case $name in *-norec) rec=0 ;; esac
	case ${name%-norec} in
	gateway-1w|gateway-2w|gateway-2w-collect|gateway-all|gateway-scale|\
	gateway-14w)
		workers=1
		if [ "$name" = gateway-all ]; then
			workers=0
		elif [ "$name" = gateway-scale ] ||
		    [ "$name" = gateway-14w ]; then
			workers=$SCALE_WORKERS
		elif [ -n "$SERVER_CPU" ]; then
			# gateway-2w: both workers on the one CPU.
			case $name in gateway-2w*) workers=2 ;; esac
			pin="taskset -c $SERVER_CPU"
			cpus=$SERVER_CPU
		fi
		dir=$tmp/$name$inst
		mkdir -p "$dir/spool"
		cat > "$dir/gw.conf" <<EOF
listen 127.0.0.1:$port
jwt_secret "$SECRET"
run_dir "$dir"
spool_dir "$dir/spool"
ping_interval 25s
max_connections $((SCALE_CONNS + SCALE_REJOIN + 200000))
max_connections_per_address 0
max_unconnected_per_address 0
presence_mode ${pmode:-scoped}
log_level warn
# flat out, a client sends far past event_rate's default
event_rate 1000000
event_burst 1000000
EOF
		[ "$rec" = 0 ] && echo "connection_recovery no" >> "$dir/gw.conf"
		# dmcost: fewer, larger wakes (io_collect_interval).
		[ "$name" = gateway-2w-collect ] &&
		    echo "io_collect_interval $DMC_COLLECT" >> "$dir/gw.conf"
		# scale: every connection may be recovered (issue 15).
		[ "$name" = gateway-scale ] && echo "recovery_sessions" \
		    "$((SCALE_CONNS + SCALE_REJOIN))" >> "$dir/gw.conf"
		[ -n "$chat_url" ] &&
		    echo "chat_service_url \"$chat_url\"" >> "$dir/gw.conf"
		[ -n "$redis_url" ] && printf '%s\n' \
		    "redis_url \"$redis_url\"" "node_id \"$name$inst\"" \
		    "redis_adapter $redis_mode" >> "$dir/gw.conf"
		cmd="$pin $SGWD -c $dir/gw.conf -w $workers"
		;;
	anchor)
		if [ ! -d "$here/anchor-node/node_modules/socket.io" ] ||
		    [ ! -d "$here/anchor-node/node_modules/opossum" ] ||
		    [ ! -d "$here/anchor-node/node_modules/axios" ] ||
		    [ ! -d "$here/anchor-node/node_modules/redis" ] ||
		    [ ! -d \
		    "$here/anchor-node/node_modules/@socket.io/redis-adapter" ]
		then
			log "installing the anchor's packages (npm ci)"
			(cd "$here/anchor-node" && npm ci --no-audit --no-fund \
			    --omit=dev >&2) || return 1
		fi
		[ -n "$SERVER_CPU" ] && pin="taskset -c $SERVER_CPU" &&
		    cpus=$SERVER_CPU
		chat=
		[ -n "$chat_url" ] && chat="CHAT_SERVICE_URL=$chat_url "
		# Recovery as the gateway's (on by default), but through Redis:
		# socket.io's pub/sub adapter has none.
		[ -n "$redis_url" ] && rec=0 && chat="${chat}REDIS_URL=$redis_url \
REDIS_ADAPTER=$redis_mode "
		cmd="env PORT=$port JWT_SECRET=$SECRET PRESENCE_MODE=${pmode:-scoped} \
RECOVERY=$rec $chat$pin $NODE $here/anchor-node/server.js"
		;;
	floor)
		[ -n "$SERVER_CPU" ] && pin="taskset -c $SERVER_CPU" &&
		    cpus=$SERVER_CPU
		cmd="$pin $FLOOR -p $port"
		;;
	lwsmin|lwsmin-e)
		[ -n "$SERVER_CPU" ] && pin="taskset -c $SERVER_CPU" &&
		    cpus=$SERVER_CPU
		cmd="$pin $LWSMIN -p $port"
		[ "$name" = lwsmin-e ] && cmd="$cmd -e"
		;;
	esac
	log "starting $name$inst: $cmd"
	echo "# $name$inst${chat_url:+ (chat service: the stub)}${redis_url:+ \
(instance ${2:-}, Redis adapter $redis_mode)}" >> "$tmp/commands"
	[ -n "$chat_url" ] && case $name in gateway-*)
		echo "#   its gw.conf adds: chat_service_url \"$chat_url\"" \
		    >> "$tmp/commands" ;;
	esac
	[ "$name" = gateway-2w-collect ] && echo "#   its gw.conf adds:" \
	    "io_collect_interval $DMC_COLLECT" >> "$tmp/commands"
	[ -n "$redis_url" ] && case $name in gateway-*)
		echo "#   its gw.conf adds: redis_url \"$redis_url\", node_id" \
		    "\"$name$inst\", redis_adapter $redis_mode" \
		    >> "$tmp/commands" ;;
	esac
	echo "$cmd" | sed "s|$SECRET|\$SECRET|g; s|$tmp|\$TMP|g" \
	    >> "$tmp/commands"
	# exec: $! is the server itself (the gateway's master), not a shell.
	sh -c "exec $cmd" 2>>"$tmp/$name$inst.log" &
	server_pid=$!
	if ! wait_port "$port"; then
		log "$name$inst did not start; its log:"
		tail -20 "$tmp/$name$inst.log" >&2
		stop_server
		return 1
	fi
	sleep 0.5	# workers forked, bus up
}

# bench LABEL SCENARIO ARGS...: one run, its JSON line kept.
bench() {
	label=$1
	scen=$2
	shift 2
	extra=
	[ -n "$cpus" ] && extra="--server-cpus $cpus"
	[ -n "$stub_pid" ] && extra="$extra --stub 127.0.0.1:$stub_port \
--stub-pids $stub_pid"
	# fanout-redis: the second instance, Redis's pid, both servers' pids.
	[ -n "$pid2" ] && extra="$extra -t 127.0.0.1:$port2 --redis-pids \
$redis_pid"
	set -- -q -l "$label" -t "127.0.0.1:$port" --secret-file \
	    "$tmp/secret" --server-pids "${server_pids:-$server_pid}" $extra \
	    --max-time 180 "$@" "$scen"
	echo "$LOAD_PIN socket-gateway-bench $*" | sed "s|$tmp|\$TMP|g; \
s|--server-pids $server_pid,${pid2:-none}|--server-pids \$PID1,\$PID2|; \
s|--server-pids $server_pid|--server-pids \$PID|; \
s|--redis-pids ${redis_pid:-none}|--redis-pids \$REDIS_PID|; \
s|--stub-pids ${stub_pid:-none}|--stub-pids \$STUB_PID|" >> "$tmp/commands"
	log "$label $scen $*"
	# shellcheck disable=SC2086
	if $LOAD_PIN "$BENCH" "$@" > "$tmp/out" 2>>"$tmp/bench.log"; then
		:
	else
		log "$label $scen failed (its output is kept in RESULTS.md)"
	fi
	cat "$tmp/out" >&2
	# fanout-redis: its own scenario in the results, with its adapter.
	if [ -n "${as_scen:-}" ]; then
		tail -1 "$tmp/out" | grep '^{' | sed "s/\"scenario\":\"$scen\"/\
\"scenario\":\"$as_scen\",\"of\":\"$scen\",\"round\":${round:-1}/"
	elif [ "${label%-norec}" != "$label" ]; then
		tail -1 "$tmp/out" | grep '^{' | sed "s/\"scenario\":\"$scen\"/\
\"scenario\":\"recovery\",\"of\":\"$scen\"/"
	elif [ "$label" = gateway-scale ]; then
		tail -1 "$tmp/out" | grep '^{' | sed \
		    "s/\"scenario\":\"$scen\"/\"scenario\":\"scale\"/"
	elif [ -n "$redis_mode" ]; then
		tail -1 "$tmp/out" | grep '^{' | sed "s/\"scenario\":\"$scen\"/\
\"scenario\":\"$scen-redis\",\"adapter\":\"$redis_mode\"/"
	else
		tail -1 "$tmp/out" | grep '^{'
	fi >> "$tmp/results.jsonl"
	sleep 1		# let the server settle its closes
}

printf '%s\n' "$SECRET" > "$tmp/secret"
: > "$tmp/results.jsonl"
: > "$tmp/commands"
started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

has() { case " $SCENARIOS " in *" $1 "*) return 0 ;; esac; return 1; }
# A missing dependency fails the run, before it starts: a table without
# its Redis rows must not read as a complete one.
if has fanout-redis && [ ! -x "$REDIS_SERVER" ]; then
	log "fanout-redis: no $REDIS_SERVER (apt-get install redis-server," \
	    "or SCENARIOS without fanout-redis)"
	exit 1
fi

for s in $SERVERS; do
	if has conns || has dm || has fanout || has churn; then
		start_server "$s" || continue
	fi
	# conns: idle authenticated connections (a fresh server: its RSS
	# before the first connection is the baseline).
	if has conns; then
		bench "$s" conns -c "$CONNS" -d 3
		if [ "$s" = gateway-all ] && [ "$BIG_CONNS" -gt 0 ]; then
			# Beyond one load process and one source address.
			bench "$s" conns -c "$BIG_CONNS" -d 3
		fi
	fi
	# dm: clients in pairs, at a fixed rate, then flat out.
	if has dm; then
		bench "$s" dm -c "$DM_CONNS" -r "$DM_RATE" -d "$DUR"
		bench "$s" dm -c "$DM_CONNS" -d "$DUR"
	fi
	# fanout: clients in groups; 150 messages/s in 100 groups of 100 is
	# 14,850 deliveries/s; then flat out.
	if has fanout; then
		bench "$s" fanout -c "$FAN_CONNS" -g "$FAN_GROUPS" \
		    -r "$FAN_RATE" -d "$DUR"
		bench "$s" fanout -c "$FAN_CONNS" -g "$FAN_GROUPS" -d "$DUR"
	fi
	# churn: users connecting and leaving, watched by 10 observers
	# through presence:<user>; at a fixed rate, then flat out.
	if has churn; then
		bench "$s" churn -c "$CHURN_CONNS" --observers 10 \
		    -r "$CHURN_RATE" -d "$DUR"
		bench "$s" churn -c "$CHURN_CONNS" --observers 10 -d "$DUR"
	fi
	stop_server
	# dm-persist: dm again, the server persisting every message to the
	# stub chat service; a fresh stub and server for each run, since a
	# server that could not keep up with one rate still works off its
	# backlog of calls long after the run.
	if has dm-persist && [ "$s" != floor ]; then
		rates=$PERSIST_RATES
		[ "$PERSIST_FLAT" = 1 ] && rates="$rates 0"
		for r in $rates; do
			start_stub || break
			if start_server "$s"; then
				if [ "$r" = 0 ]; then
					set --
				else
					set -- -r "$r"
				fi
				bench "$s" dm-persist -c "$DM_CONNS" "$@" \
				    -d "$DUR" --warmup "$PERSIST_WARMUP"
				stop_server
			fi
			stop_stub
		done
	fi
done

# fanout-redis: fanout again, across two instances joined through a fresh
# Redis, for each adapter; the gateway with one worker each, as gateway-1w.
if has fanout-redis; then
	for s in $SERVERS; do
		case $s in
		gateway-1w|anchor) ;;
		*) continue ;;
		esac
		for m in $REDIS_MODES; do
			start_redis || break
			if start_pair "$s" "$m"; then
				bench "$s x2" fanout -c "$FANR_CONNS" \
				    -g "$FANR_GROUPS" -r "$FANR_RATE" -d "$DUR" \
				    --warmup "$FANR_WARMUP"
				[ "$FANR_FLAT" = 1 ] && bench "$s x2" fanout \
				    -c "$FANR_CONNS" -g "$FANR_GROUPS" -d "$DUR" \
				    --warmup "$FANR_WARMUP"
				[ "$s" = gateway-1w ] && pair_figures
			fi
			stop_pair
			stop_redis
		done
	done
fi

# storm: the seed's presence (mode all): STORM_USERS distinct users
# connect as fast as they can, each client read by the one load process;
# until every client knows every user, or STORM_LIMIT seconds.
if has storm; then
	pmode=all
	for s in $SERVERS; do
		case $s in gateway-1w|anchor) ;; *) continue ;; esac
		start_server "$s" || continue
		bench "$s" storm -c "$STORM_USERS" -d "$STORM_LIMIT" \
		    --max-time $((STORM_LIMIT + 180)) --timeout 60
		stop_server
	done
	pmode=
fi

# recovery: what connection state recovery costs, on both: conns and dm
# at its rate again with it off (every other run has it on, the default;
# the anchor's is socket.io's connectionStateRecovery).
if has recovery; then
	for s in $SERVERS; do
		case $s in gateway-1w|anchor) ;; *) continue ;; esac
		start_server "$s-norec" || continue
		bench "$s-norec" conns -c "$CONNS" -d 3
		bench "$s-norec" dm -c "$DM_CONNS" -r "$DM_RATE" -d "$DUR"
		stop_server
	done
fi

# scale: one host's worth of idle connections, held, then a crowd of them
# leaving and coming back at once.
if has scale; then
	if start_server gateway-scale; then
		bench gateway-scale conns -c "$SCALE_CONNS" -d "$SCALE_HOLD" \
		    --rejoin "$SCALE_REJOIN" --max-time 600 --timeout 60
		stop_server
	fi
fi

# perf_fields LABEL: perfwin.sh's counts into the last run's JSON line,
# if that is LABEL's (a run that wrote none is left alone).
perf_fields() {
	ctx=$(sed -n 's/^\([0-9]*\),,context-switches.*/\1/p' "$tmp/perf" \
	    2>/dev/null)
	sys=$(sed -n 's/^\([0-9]*\),,raw_syscalls:sys_enter.*/\1/p' \
	    "$tmp/perf" 2>/dev/null)
	clk=$(sed -n 's/^\([0-9.]*\),msec,task-clock.*/\1/p' "$tmp/perf" \
	    2>/dev/null)
	why=$(head -1 "$tmp/perf" 2>/dev/null | grep '^no perf')
	last=$(tail -1 "$tmp/results.jsonl")
	case $last in
	*'"perf_ctx"'*) return ;;
	*"\"label\":\"$1\""*) ;;
	*) return ;;
	esac
	sed -i '$d' "$tmp/results.jsonl"
	printf '%s\n' "${last%\}},\"perf_ctx\":${ctx:-null},\"perf_syscalls\":\
${sys:-null},\"perf_task_ms\":${clk:-null},\"perf_note\":\"$why\"}" \
	    >> "$tmp/results.jsonl"
}

# dmcost: direct messages at DMC_RATE, the servers taking turns, a fresh
# one for each run, so that a slow minute of the machine is not one
# server's alone.
if has dmcost; then
	as_scen=dmcost
	round=1
	while [ "$round" -le "$DMC_ROUNDS" ]; do
		for s in gateway-1w gateway-1w-norec gateway-2w \
		    gateway-2w-collect floor anchor; do
			start_server "$s" || continue
			# perf stat over the messages: the server and its
			# workers (perfwin.sh).
			pids=$(echo "$server_pid" $(pgrep -P "$server_pid") |
			    tr ' ' ,)
			rm -f "$tmp/perf"
			bench "$s" dm -c "$DM_CONNS" -r "$DMC_RATE" -d "$DUR" \
			    --phase-cmd "sh $here/perfwin.sh $tmp/perf $pids"
			perf_fields "$s"
			stop_server
		done
		round=$((round + 1))
	done
	as_scen=
	round=
fi

# bytes: the memory per idle connection, layer by layer.
if has bytes; then
	as_scen=bytes
	for s in lwsmin lwsmin-e gateway-1w-norec gateway-1w gateway-14w; do
		start_server "$s" || continue
		bench "$s" conns -c "$CONNS" -d 3
		stop_server
	done
	as_scen=
fi

ended=$(date +%s)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "nproc=$ncpu"
	echo "cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
	echo "kernel=$(uname -sr)"
	echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "nofile=$(ulimit -Hn)"
	echo "node=$($NODE --version 2>/dev/null)"
	echo "socketio=$(cd "$here/anchor-node" && $NODE -p \
	    'require("socket.io/package.json").version' 2>/dev/null)"
	echo "axios=$(cd "$here/anchor-node" && $NODE -p \
	    'require("axios/package.json").version' 2>/dev/null)"
	echo "opossum=$(cd "$here/anchor-node" && $NODE -p \
	    'require("opossum/package.json").version' 2>/dev/null)"
	echo "scenarios=$SCENARIOS"
	echo "redis=$($REDIS_SERVER --version 2>/dev/null | \
	    sed -n 's/.* v=\([^ ]*\).*/\1/p')"
	echo "redis_adapter=$(cd "$here/anchor-node" && $NODE -p \
	    'require("@socket.io/redis-adapter/package.json").version' \
	    2>/dev/null)"
	echo "redis_client=$(cd "$here/anchor-node" && $NODE -p \
	    'require("redis/package.json").version' 2>/dev/null)"
	echo "notepack=$(cd "$here/anchor-node" && $NODE -p \
	    'require("notepack.io/package.json").version' 2>/dev/null)"
	echo "redis_modes=$REDIS_MODES"
	echo "fanr_warmup=$FANR_WARMUP"
	echo "persist_rates=$PERSIST_RATES"
	echo "gateway=$($SGWD -V 2>/dev/null | head -1)"
	echo "commit=$(cd "$top" 2>/dev/null && git rev-parse --short HEAD \
	    2>/dev/null)$(cd "$top" 2>/dev/null && git diff --quiet HEAD \
	    2>/dev/null || echo ' (with uncommitted changes)')"
	echo "seconds=$((ended - started))"
	echo "load_before=$load_before"
	echo "load_after=$load_after"
	echo "pin=$LOAD_PIN"
	echo "dur=$DUR"
} > "$tmp/machine"
# MERGE=1: the previous runs of the scenarios not run now stay.
if [ "$MERGE" = 1 ] && [ -f "${OUT%.md}.jsonl" ]; then
	kept=0
	while IFS= read -r line; do
		sc=$(printf '%s\n' "$line" |
		    sed -n 's/.*"scenario":"\([^"]*\)".*/\1/p')
		has "$sc" && continue
		printf '%s\n' "$line" >> "$tmp/results.jsonl"
		kept=$((kept + 1))
	done < "${OUT%.md}.jsonl"
	echo "merged=$kept" >> "$tmp/machine"
	# Their machine and exact commands come along, after the new ones.
	[ -f "$OUT" ] && awk '
	    /^Written by/ { sub(/^Written by/, "The kept runs were written by") ; print; print ""; next }
	    /^## The machine/ { on = 1; print "### Their machine"; next }
	    /^## The exact commands/ { on = 1; print "### Their exact commands"; next }
	    /^## The kept runs/ { on = 0; keep = 1; print "### Runs it kept"; next }
	    keep { print; next }
	    /^## / { on = 0 }
	    on { print }' "$OUT" > "$tmp/kept.md"
fi
# The raw figures beside the report: one JSON line per run.
cp "$tmp/results.jsonl" "${OUT%.md}.jsonl"
$NODE "$here/results.js" "$tmp/machine" "$tmp/commands" \
    "$tmp/results.jsonl" > "$tmp/RESULTS.md" &&
    { [ ! -s "$tmp/kept.md" ] || { printf '\n## The kept runs\n\n'; \
    cat "$tmp/kept.md"; } >> "$tmp/RESULTS.md"; } &&
    cp "$tmp/RESULTS.md" "$OUT" &&
    log "wrote $OUT and ${OUT%.md}.jsonl in $((ended - started)) s"

#!/bin/sh
# bench/admin-cost.sh: what a connected Admin UI costs a large gateway
# (issue 18).  One gateway of WORKERS (2) workers, admin on; CONNS
# (100000) idle connections held by socket-gateway-bench; then, each
# measured over SECS (10) s by the gateway's CPU (master and workers,
# /proc): idle without a dashboard; a dashboard logging in (time to
# all_sockets, its size, LIST_MAX sockets in it at most) and
# idle with it; CHURN_RATE (200) connect/disconnect cycles per second
# (bench churn) without and with it, and what the dashboard received.
# Environment: SGWD, BENCH (default: the build tree beside this script),
# CONNS, WORKERS, SECS, LIST_MAX (admin_list_max, 10000, the default),
# CHURN_RATE, PROCS (the load's processes, 1; with a descriptor limit of
# 20000, CONNS=100000 needs WORKERS=7 PROCS=7).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
SGWD=${SGWD:-$top/socket-gatewayd}
BENCH=${BENCH:-$top/socket-gateway-bench}
CONNS=${CONNS:-100000}
WORKERS=${WORKERS:-2}
SECS=${SECS:-10}
LIST_MAX=${LIST_MAX:-10000}
PROCS=${PROCS:-1}
CHURN_RATE=${CHURN_RATE:-200}
# "cost", bcrypt cost 4: the login is not what is measured.
HASH='$2b$04$abcdefghijklmnopqrstuuP8GZNyeWg1NA7y4XdExiSFArdMAjnVC'
SECRET=admin-cost-secret-0123456789abcdef0123456789
tmp=$(mktemp -d "${TMPDIR:-/tmp}/admin-cost.XXXXXX")
port=$(( 20000 + $$ % 20000 ))
gw_pid= load_pid=
trap '[ -n "$load_pid" ] && kill $load_pid 2>/dev/null; [ -n "$gw_pid" ] &&
    kill $gw_pid 2>/dev/null; sleep 1; rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
ulimit -n "$(ulimit -Hn)"
printf '%s' "$SECRET" > "$tmp/secret"
cat > "$tmp/gw.conf" <<CONF
listen 127.0.0.1:$port
jwt_secret "$SECRET"
run_dir "$tmp"
spool_dir "$tmp"
presence_mode scoped
max_connections $((CONNS + 100000))
max_connections_per_address 0
max_unconnected_per_address 0
log_level warn
admin on
admin_username admin
admin_password_hash "$HASH"
admin_list_max $LIST_MAX
CONF
$SGWD -c "$tmp/gw.conf" -w "$WORKERS" 2>"$tmp/gw.log" &
gw_pid=$!
sleep 2
# The gateway's processes: the master and its workers.
pids() {
	echo $gw_pid $(pgrep -P $gw_pid)
}
# CPU seconds (user + system) of the gateway's processes now.
cpu() {
	for p in $(pids); do
		awk '{ print $14 + $15 }' /proc/$p/stat 2>/dev/null
	done | awk -v hz="$(getconf CLK_TCK)" '{ s += $1 } END { printf "%.2f", s / hz }'
}
measure() {	# label command...: CPU seconds over SECS while it runs
	label=$1
	shift
	a=$(cpu)
	"$@"
	b=$(cpu)
	echo "{\"measure\":\"$label\",\"cpu_s\":$(echo "$b - $a" | bc),\"secs\":$SECS}"
}
"$BENCH" -q -t 127.0.0.1:$port --secret-file "$tmp/secret" -c "$CONNS" \
    -P "$PROCS" -d 3600 --max-time 4000 --timeout 120 conns > "$tmp/load.out" \
    2>"$tmp/load.log" &
load_pid=$!
i=0
while :; do
	n=$(curl -s "http://127.0.0.1:$port/metrics" |
	    sed -n 's/.*"connections":{"total":\([0-9]*\).*/\1/p')
	[ "${n:-0}" -ge "$CONNS" ] && break
	i=$((i + 1))
	[ $i -gt 600 ] && { echo "not $CONNS connected: $n" >&2; exit 1; }
	sleep 1
done
echo "{\"connected\":$n,\"workers\":$WORKERS}"
sleep 3
measure idle-no-dashboard sleep "$SECS"
rss=$(for p in $(pids); do awk '/VmRSS/ { print $2 }' /proc/$p/status; done |
    awk '{ s += $1 } END { print s }')
a=$(cpu)
node "$here/admin-cost.mjs" "http://127.0.0.1:$port" "$SECS" > "$tmp/dash.out" &
dash=$!
until grep -q listed "$tmp/dash.out" 2>/dev/null; do sleep 0.2; done
b=$(cpu)
cat "$tmp/dash.out"
echo "{\"measure\":\"dashboard-login-and-list\",\"cpu_s\":$(echo "$b - $a" | bc)}"
measure idle-with-dashboard wait $dash
tail -1 "$tmp/dash.out"
rss2=$(for p in $(pids); do awk '/VmRSS/ { print $2 }' /proc/$p/status; done |
    awk '{ s += $1 } END { print s }')
echo "{\"rss_kb_before\":$rss,\"rss_kb_after\":$rss2}"
churn() {
	"$BENCH" -q -t 127.0.0.1:$port --secret-file "$tmp/secret" -c 100 \
	    -r "$CHURN_RATE" -d "$SECS" --max-time 120 --user-prefix churn \
	    churn > "$tmp/churn.out" 2>>"$tmp/load.log"
}
measure churn-no-dashboard churn
node "$here/admin-cost.mjs" "http://127.0.0.1:$port" "$((SECS + 4))" > "$tmp/dash.out" &
dash=$!
until grep -q listed "$tmp/dash.out" 2>/dev/null; do sleep 0.2; done
sleep 2
measure churn-with-dashboard churn
wait $dash
tail -1 "$tmp/dash.out"

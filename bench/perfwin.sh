#!/bin/sh
# bench/perfwin.sh OUT PIDS PHASE: socket-gateway-bench's --phase-cmd for
# run.sh's dmcost (issue 16).  At "run" (the connections set up, before
# the first message) it starts perf stat on the server's processes, every
# thread of each: its task switches, system calls and CPU; at "drained"
# (the last message answered) it stops it, so OUT covers the messages
# sent and no connect.  No perf, or perf refused: OUT says so and the
# table gives n/a.
out=$1
pids=$2
case $3 in
run)
	if ! command -v perf >/dev/null 2>&1; then
		echo "no perf (Debian: linux-perf)" > "$out"
		exit 0
	fi
	perf stat -x, -e context-switches,raw_syscalls:sys_enter,task-clock \
	    -p "$pids" -o "$out" 2>/dev/null &
	echo $! > "$out.pid"
	;;
drained)
	[ -f "$out.pid" ] || exit 0
	p=$(cat "$out.pid")
	kill -INT "$p" 2>/dev/null
	i=0
	while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	rm -f "$out.pid"
	;;
esac

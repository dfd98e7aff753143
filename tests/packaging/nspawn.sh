#!/bin/sh
# nspawn.sh: the .deb under a real systemd (issue 17).  mmdebstrap makes a
# minimal Debian 12 with systemd and the package's dependencies, from
# Debian's packages; systemd-nspawn -b boots it (sharing this machine's
# network, so the host's client reaches the gateway); commands run in it
# through nsenter.  Checked: dpkg -i starts the service (READY, StatusText),
# a client connects, systemctl reload changes the generation and refuses
# no connection, an upgrade restarts it, systemctl stop ends it cleanly,
# every journal line of the daemon is JSON, a broken configuration fails
# systemctl reload and leaves the gateway running, and fails systemctl start
# without a restart loop, with the reason in systemctl status.
#
#   sh tests/packaging/nspawn.sh [DEB]      (root)
set -u
. "$(dirname "$0")/lib.sh"
deb=${1:-$(find_deb)}
[ -n "$deb" ] && [ -f "$deb" ] || { bad "a .deb to test (make deb)"; finish; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sgw-nspawn.XXXXXX")
root=$tmp/root
port=23403
# Below the ephemeral range (32768-60999): no other test's client
# socket can hold it.
url=http://127.0.0.1:$port
nspawn=
sd=

cleanup() {
	if [ -n "$nspawn" ]; then
		kill "$nspawn" 2>/dev/null
		wait "$nspawn" 2>/dev/null
	fi
	rm -rf "$tmp" "$check_out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

in_ct() {
	nsenter -t "$sd" -a "$@"
}

prop() {
	in_ct systemctl show -p "$1" --value socket-gatewayd
}

# The package's dependencies, by name, for mmdebstrap --include.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' |
    sed 's/(.*//; s/|.*//; s/ //g' | grep . | tr '\n' ',')
echo "nspawn.sh: mmdebstrap bookworm (systemd, dbus, ${deps%,})"
if ! mmdebstrap --variant=minbase --include="systemd,systemd-sysv,dbus,${deps%,}" \
    bookworm "$root" > "$tmp/mmdebstrap.log" 2>&1; then
	tail -n 20 "$tmp/mmdebstrap.log"
	bad "mmdebstrap made a Debian 12 root"
	finish
fi
ok "mmdebstrap made a Debian 12 root"
echo sgw-nspawn > "$root/etc/hostname"
cp "$deb" "$root/root/socket-gateway.deb"
bump_deb "$deb" "$tmp" > /dev/null
cp "$tmp"/socket-gateway_*+test1_amd64.deb "$root/root/socket-gateway-new.deb"
mkdir -p "$root/etc/socket-gateway"
echo "PORT=$port" > "$root/etc/socket-gateway/env"

# The options that boot here: cgroup v2 for the container's systemd, no
# machined to register with, and the unit we run in kept.
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn -q -D "$root" -b \
    --register=no --keep-unit > "$tmp/boot.log" 2>&1 < /dev/null &
nspawn=$!
# Its child is the container's systemd, PID 1 inside.
booted() {
	sd=$(ps -o pid= --ppid "$nspawn" | tr -d ' ' | head -n 1)
	[ -n "$sd" ] && in_ct systemctl is-system-running --wait
}
if ! wait_for 60 booted; then
	# A machine that cannot boot it: the reason is nspawn's own words.
	skip "systemd test: systemd-nspawn -b did not boot a Debian 12 here:" \
	    "$(grep -v '^$' "$tmp/boot.log" | tail -n 5 | tr '\n' ' ')"
	finish
fi
ok "systemd-nspawn -b booted Debian 12 (systemd $(in_ct systemctl --version | sed -n '1s/systemd \([0-9]*\).*/\1/p'))"

check "dpkg -i the .deb inside (its postinst starts the service)" \
    in_ct env DEBIAN_FRONTEND=noninteractive dpkg -i /root/socket-gateway.deb
check "socket-gatewayd is active" wait_for 30 sh -c \
    '[ "$(nsenter -t "$1" -a systemctl show -p ActiveState --value socket-gatewayd)" = active ]' sh "$sd"
check "READY: StatusText says serving, generation 1" \
    sh -c 'echo "$1" | grep -q "^serving.*generation 1"' sh "$(prop StatusText)"
check "a client connects with the installed secret" \
    client connect "$url" "$root/etc/socket-gateway/jwt.secret"

pid_before=$(prop MainPID)
rm -f "$tmp/stop"
client loop "$url" "$root/etc/socket-gateway/jwt.secret" "$tmp/stop" \
    > "$tmp/loop.log" 2>&1 &
loop=$!
sleep 1
check "systemctl reload" in_ct systemctl reload socket-gatewayd
check "the generation changed to 2" wait_for 30 sh -c \
    'nsenter -t "$1" -a systemctl show -p StatusText --value socket-gatewayd | grep -q "generation 2"' sh "$sd"
sleep 1
touch "$tmp/stop"
wait "$loop"
rc=$?
cat "$tmp/loop.log" | tail -n 5
check "no connection was refused during the reload" test "$rc" -eq 0
check "the reload kept the master (MainPID)" test "$(prop MainPID)" = "$pid_before"

check "an upgrade (dpkg -i a newer version)" \
    in_ct env DEBIAN_FRONTEND=noninteractive dpkg -i /root/socket-gateway-new.deb
check "the upgrade restarted the service (a new MainPID, active)" sh -c \
    '[ "$2" != "$3" ] && [ "$(nsenter -t "$1" -a systemctl show -p ActiveState --value socket-gatewayd)" = active ]' \
    sh "$sd" "$pid_before" "$(prop MainPID)"
check "a client connects after the upgrade" \
    client connect "$url" "$root/etc/socket-gateway/jwt.secret"

# A broken configuration: systemctl reload refuses it (ExecReload's -t
# check exits 78) and the running gateway goes on as it was.
conf=$root/etc/socket-gateway/socket-gateway.conf
pid_running=$(prop MainPID)
echo "no_such_key 1" >> "$conf"
check "a broken configuration fails systemctl reload" \
    sh -c '! nsenter -t "$1" -a systemctl reload socket-gatewayd' sh "$sd"
check "the gateway still runs after the refused reload (same MainPID, active)" \
    sh -c '[ "$2" = "$3" ] && [ "$4" = active ]' sh "$sd" "$pid_running" \
    "$(prop MainPID)" "$(prop ActiveState)"
check "a client connects after the refused reload" \
    client connect "$url" "$root/etc/socket-gateway/jwt.secret"

check "systemctl stop" in_ct systemctl stop socket-gatewayd
check "stopped cleanly (Result=success, inactive)" sh -c \
    '[ "$2" = success ] && [ "$3" = inactive ]' sh "$sd" "$(prop Result)" "$(prop ActiveState)"

# The configuration is still broken: the start fails, the daemon exits 78
# (EX_CONFIG), RestartPreventExitStatus=78 keeps systemd from restarting
# it, and systemctl status shows why: the daemon's own lines, which name
# the bad key.
check "a broken configuration fails systemctl start" \
    sh -c '! nsenter -t "$1" -a systemctl start socket-gatewayd' sh "$sd"
check "the daemon exited 78 (EX_CONFIG)" test "$(prop ExecMainStatus)" = 78
sleep 3	# RestartSec is 2s: a restart would have come by now
check "not restarted (NRestarts=0, failed)" sh -c \
    '[ "$2" = 0 ] && [ "$3" = failed ]' sh "$sd" "$(prop NRestarts)" \
    "$(prop ActiveState)"
in_ct systemctl status --no-pager -l socket-gatewayd > "$tmp/status" 2>&1
cat "$tmp/status"
check "systemctl status: the main process exited with status=78/CONFIG" \
    grep -q "Main process exited, code=exited, status=78/CONFIG" "$tmp/status"
check "systemctl status shows why: the bad key's name" \
    grep -q "unknown key 'no_such_key'" "$tmp/status"
reason() {
	in_ct journalctl -u socket-gatewayd -o cat --no-pager > "$tmp/journal" 2>&1
	grep "unknown key .*no_such_key" "$tmp/journal" > "$tmp/reason" &&
	    jq -e . "$tmp/reason" >/dev/null
}
check "journalctl -u: the reload check and the start said why, as JSON lines" \
    wait_for 15 reason
check "...twice: once for the refused reload, once for the start" \
    test "$(wc -l < "$tmp/reason")" -eq 2

# The daemon's own lines, its errors included: systemd adds its own
# ("Starting ...") under -u.
in_ct journalctl _SYSTEMD_UNIT=socket-gatewayd.service -o cat --no-pager \
    > "$tmp/journal" 2>&1
echo "journal: $(wc -l < "$tmp/journal") lines of the daemon's"
check "the journal holds the daemon's JSON lines (listening, ready)" sh -c \
    'grep -q "\"msg\":\"listening on" "$1" && grep -q "\"msg\":\"socket-gatewayd ready" "$1"' sh "$tmp/journal"
check "jq parses every line of the daemon's journal" jq -e . "$tmp/journal"

in_ct systemctl poweroff > /dev/null 2>&1
wait_for 30 sh -c '! kill -0 "$1"' sh "$nspawn"
finish

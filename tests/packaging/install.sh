#!/bin/sh
# install.sh: the .deb as a user walks it on this machine (issue 17):
# apt install, the daemon started as its unit starts it (its user, its
# EnvironmentFile and configuration, the run and state directories the
# unit would create), a real socket.io-client with the installed secret,
# SIGHUP, SIGTERM, an upgrade that keeps an edited conffile, a broken
# configuration (exit 78 and its reason), remove, purge.
# systemd itself is tested by nspawn.sh; here nothing runs as PID 1.
#
#   sh tests/packaging/install.sh [DEB]      (root; DEB: the newest built)
set -u
. "$(dirname "$0")/lib.sh"
deb=${1:-$(find_deb)}
[ -n "$deb" ] && [ -f "$deb" ] || { bad "a .deb to test (make deb)"; finish; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sgw-install.XXXXXX")
chmod 0755 "$tmp"
etc=/etc/socket-gateway
unit=/lib/systemd/system/socket-gatewayd.service
port=23402
# Below the ephemeral range (32768-60999): no other test's client
# socket can hold it.
url=http://127.0.0.1:$port
pid=

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq socket-gateway \
	    >/dev/null 2>&1
	rm -rf "$tmp" "$check_out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

apt_get() {
	DEBIAN_FRONTEND=noninteractive apt-get "$@" -y -q \
	    -o Dpkg::Options::=--force-confold > "$tmp/apt.log" 2>&1 ||
	    { tail -n 20 "$tmp/apt.log"; return 1; }
}

# The value of the first KEY= line of the installed unit.
unit_value() {
	sed -n "s/^$1=//p" "$unit" | head -n 1
}

# Start the installed daemon as the unit would: the directories systemd
# makes for RuntimeDirectory= and StateDirectory= (owner, mode), its
# EnvironmentFile (KEY=VALUE lines), User= (setpriv execs: $pid is the
# master itself, as systemd's MainPID), ExecStart (the unit has no
# ExecStartPre: tests/check-packaging.sh).  In the background; with
# --fg, in the foreground, its exit status returned.
start() {
	user=$(unit_value User)
	install -d -o "$user" -g "$user" -m "$(unit_value RuntimeDirectoryMode)" \
	    "/run/$(unit_value RuntimeDirectory)"
	for d in $(unit_value StateDirectory); do
		install -d -o "$user" -g "$user" \
		    -m "$(unit_value StateDirectoryMode)" "/var/lib/$d"
	done
	envfile=$(unit_value EnvironmentFile)
	envfile=${envfile#-}
	set --
	if [ -f "$envfile" ]; then
		while IFS= read -r line; do
			case $line in ''|'#'*) ;; *) set -- "$@" "$line" ;; esac
		done < "$envfile"
	fi
	: > "$tmp/daemon.log"
	if [ "${fg:-}" = 1 ]; then
		# shellcheck disable=SC2046
		setpriv --reuid="$user" --regid="$user" --init-groups env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		    "$@" $(unit_value ExecStart) >/dev/null 2>"$tmp/daemon.log"
		return
	fi
	# shellcheck disable=SC2046
	setpriv --reuid="$user" --regid="$user" --init-groups env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    "$@" $(unit_value ExecStart) >/dev/null 2>"$tmp/daemon.log" &
	pid=$!
	wait_for 30 grep -q '"msg":"socket-gatewayd ready' "$tmp/daemon.log" ||
	    { tail -n 20 "$tmp/daemon.log"; return 1; }
}

# SIGTERM, and the master's exit status: 0 after a clean drain.
stop() {
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=
	[ "$rc" -eq 0 ] || { tail -n 20 "$tmp/daemon.log"; return 1; }
}

log_has() {
	grep -q "$1" "$tmp/daemon.log"
}

if dpkg -s socket-gateway >/dev/null 2>&1; then
	echo "install.sh: socket-gateway was installed; purging it first"
	apt_get purge socket-gateway
fi

echo "install.sh: $deb"
check "apt install ./$(basename "$deb")" apt_get install "$deb"
check "the user socket-gateway exists" getent passwd socket-gateway
check "$etc/jwt.secret: made at install, 0640 root:socket-gateway" \
    test "$(stat -c '%a %U:%G' $etc/jwt.secret 2>&1)" = "640 root:socket-gateway"
check "$etc/socket-gateway.conf is a conffile" \
    sh -c 'dpkg-query -W -f="\${Conffiles}" socket-gateway | grep -q " /etc/socket-gateway/socket-gateway.conf "'
check "the unit is installed" test -f "$unit"

# The unit's EnvironmentFile: the port clients reach.
echo "PORT=$port" > "$etc/env"
check "the daemon starts as the unit starts it (user, env, config)" start
check "it runs as socket-gateway" \
    test "$(ps -o user= -p "$pid" 2>&1)" = socket-gateway
check "the EnvironmentFile's PORT=$port is used" log_has "listening on \*:$port"
check "a socket.io-client connects with the installed jwt.secret" \
    client connect "$url" "$etc/jwt.secret"

kill -HUP "$pid"
check "SIGHUP reloads (generation 2)" \
    wait_for 30 log_has '"msg":"reloaded: generation 2'
check "a client connects after the reload" client connect "$url" "$etc/jwt.secret"
check "SIGTERM stops it, exit status 0 (drained)" stop
check "the master said it stopped" \
    sh -c 'grep -q "\"role\":\"master\".*\"msg\":\"[^\"]*\(exit\|stopp\)" "$1"' \
    sh "$tmp/daemon.log"

# Upgrade: an edited conffile stays; the running daemon is restarted
# (here by hand: without systemd the postinst's restart does nothing;
# nspawn.sh sees systemd do it).
echo "# edited by install.sh" >> "$etc/socket-gateway.conf"
secret_before=$(cat "$etc/jwt.secret")
check "the daemon runs before the upgrade" start
new=$(bump_deb "$deb" "$tmp")
check "apt install the newer version $(basename "$new")" apt_get install "$new"
check "the new version is installed" \
    sh -c 'dpkg-query -W -f="\${Version}" socket-gateway | grep -q "+test1$"'
check "the edited conffile is kept" \
    grep -q -x "# edited by install.sh" "$etc/socket-gateway.conf"
check "no .dpkg-new / .dpkg-dist left beside it" \
    sh -c '! ls /etc/socket-gateway/*.dpkg-* 2>/dev/null | grep -q .'
check "the secret is kept" test "$(cat "$etc/jwt.secret")" = "$secret_before"
check "the old daemon still serves during the upgrade" \
    client connect "$url" "$etc/jwt.secret"
check "the old daemon drains on SIGTERM (exit 0)" stop
check "the new daemon starts" start
check "a client connects to the upgraded daemon" \
    client connect "$url" "$etc/jwt.secret"
check "SIGTERM stops it" stop

# A broken configuration: the daemon, started as the unit starts it, exits
# 78 (EX_CONFIG, which the unit's RestartPreventExitStatus= does not
# restart) and its stderr, the journal under the unit, says why.
cp "$etc/socket-gateway.conf" "$tmp/conf.good"
echo "no_such_key 1" >> "$etc/socket-gateway.conf"
fg=1
start
rc=$?
fg=
check "a broken configuration: the daemon exits 78 (EX_CONFIG), got $rc" \
    test "$rc" -eq 78
check "the unit does not restart on it (RestartPreventExitStatus=78)" \
    test "$(unit_value RestartPreventExitStatus)" = 78
check "its stderr names the bad key, as a JSON line" sh -c \
    'grep "unknown key .no_such_key." "$1" | jq -e . >/dev/null' sh "$tmp/daemon.log"
grep -m 1 no_such_key "$tmp/daemon.log"
cp "$tmp/conf.good" "$etc/socket-gateway.conf"

check "apt remove" apt_get remove socket-gateway
check "remove: the daemon is gone" test ! -e /usr/sbin/socket-gatewayd
check "remove: the configuration is kept" \
    grep -q -x "# edited by install.sh" "$etc/socket-gateway.conf"
check "remove: the secret is kept" test -f "$etc/jwt.secret"
check "apt purge" apt_get purge socket-gateway
check "purge: the configuration is gone" test ! -e "$etc/socket-gateway.conf"
check "purge: the secret is gone" test ! -e "$etc/jwt.secret"
check "purge: the state directory is gone" test ! -e /var/lib/socket-gateway
check "purge: dpkg forgot the package" \
    sh -c '! dpkg -s socket-gateway >/dev/null 2>&1'
rm -f "$etc/env"
rmdir "$etc" 2>/dev/null
rm -rf /run/socket-gateway
finish

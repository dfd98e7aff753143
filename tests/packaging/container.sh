#!/bin/sh
# container.sh: packaging/Containerfile built and run with podman (issue
# 17).  No registry is reachable here, so the Debian 12 base comes from
# Debian's packages (mmdebstrap | podman import).  Podman's state lives in
# a temporary directory (--root, --runroot, CONTAINERS_CONF): nothing of
# this machine's is touched.  runc and cgroupfs, and no default ulimits:
# crun refuses to start here (the rlimits, the hybrid cgroups).  Host
# networking: the build's apt-get reaches Debian's mirror as this machine
# does, and the client reaches the gateway on PORT.
#
#   sh tests/packaging/container.sh [DEB]      (root)
set -u
. "$(dirname "$0")/lib.sh"
deb=${1:-$(find_deb)}
[ -n "$deb" ] && [ -f "$deb" ] || { bad "a .deb to test (make deb)"; finish; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sgw-podman.XXXXXX")
port=23404
# Below the ephemeral range (32768-60999): no other test's client
# socket can hold it.
url=http://127.0.0.1:$port
cat > "$tmp/containers.conf" <<CONF
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF="$tmp/containers.conf"
pm() {
	podman --root "$tmp/storage" --runroot "$tmp/run" "$@"
}

cleanup() {
	pm rm -f -t 0 sgw-test >/dev/null 2>&1
	pm rmi -a -f >/dev/null 2>&1
	rm -rf "$tmp" "$check_out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

base() {
	mmdebstrap --variant=minbase --format=tar bookworm - 2>"$tmp/mm.log" |
	    pm import - localhost/sgw-debian:12
}
check "a Debian 12 base image (mmdebstrap | podman import)" base

mkdir "$tmp/ctx"
cp "$deb" "$tmp/ctx/"
check "podman build -f packaging/Containerfile" \
    pm build --network=host --build-arg BASE=localhost/sgw-debian:12 \
    -f "$top/packaging/Containerfile" -t localhost/socket-gateway "$tmp/ctx"

# The seed's way: an env file with its variables.
secret=container-test-secret-0123456789abcdef0123
printf 'PORT=%s\nJWT_SECRET=%s\nLOG_LEVEL=info\nCORS_ORIGIN=*\n' \
    "$port" "$secret" > "$tmp/.env"
printf '%s\n' "$secret" > "$tmp/secret"
check "podman run --env-file .env" \
    pm run -d --name sgw-test --network=host --env-file "$tmp/.env" \
    localhost/socket-gateway
ready() {
	pm logs sgw-test 2>&1 | grep -q '"msg":"socket-gatewayd ready'
}
check "the gateway is ready (its JSON log on stderr: podman logs)" \
    wait_for 30 ready
check "it runs as socket-gateway, not root" \
    sh -c '[ "$(podman --root "$1" --runroot "$2" exec sgw-test id -un)" = socket-gateway ]' \
    sh "$tmp/storage" "$tmp/run"
check "a socket.io-client connects (JWT_SECRET from the env file)" \
    client connect "$url" "$tmp/secret"
check "podman stop (SIGTERM)" pm stop -t 40 sgw-test
check "it drained and exited 0" \
    sh -c '[ "$(podman --root "$1" --runroot "$2" inspect -f "{{.State.ExitCode}}" sgw-test)" = 0 ]' \
    sh "$tmp/storage" "$tmp/run"
pm logs sgw-test > "$tmp/logs" 2>&1
check "every log line is JSON" jq -e . "$tmp/logs"
check "the log says it stopped on SIGTERM" grep -q 'SIGTERM' "$tmp/logs"
finish

#!/bin/sh
# Install what building and testing socket-gateway needs on Debian 12, from
# Debian's packages (packaging/build-deps.txt) and, for the integration
# tests, the npm packages pinned in tests/package-lock.json.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (apt-get)" >&2
	exit 1
fi
missing=$(grep -v '^#' "$top/packaging/build-deps.txt" | while read -r p; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    echo "$p"
done)
# Node.js for the tests: Debian's, unless a Node.js with npm is there already.
if [ "${1:-}" = "--tests" ] && ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi
# The browser test drives Debian's Chromium (no browser download).
if [ "${1:-}" = "--tests" ] && [ ! -x /usr/bin/chromium ]; then
	missing="$missing chromium"
fi
# The cluster tests run Debian's redis-server (issue 14).
if [ "${1:-}" = "--tests" ] && [ ! -x /usr/bin/redis-server ]; then
	missing="$missing redis-server"
fi
# The packaging tests (tests/packaging/): a Debian 12 root booted under
# systemd-nspawn, a container image built and run with podman, jq for the
# journal.
if [ "${1:-}" = "--tests" ]; then
	for p in mmdebstrap systemd-container podman runc jq; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "ok installed" || missing="$missing $p"
	done
fi
if [ -n "$missing" ]; then
	echo "install-deps.sh: installing:" $missing
	apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi
if [ "${1:-}" = "--tests" ] && [ -f "$top/tests/package-lock.json" ]; then
	(cd "$top/tests" && npm ci --no-audit --no-fund --loglevel=error)
fi

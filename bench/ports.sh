# Sourced by bench/run.sh and bench/redis-bytes.sh.
#
# free_port: a port below the ephemeral range (32768-60999 here), which
# nothing listens on or connects from: the load's own client sockets take
# thousands of ephemeral ports, and a server could not bind one of those.
free_port() {
	port=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 10000 + 20000 ))
	while ss -Htan "sport = :$port" 2>/dev/null | grep -q .; do
		port=$((port + 1))
	done
	echo "$port"
}

/*
 * Bind one listening socket.  An empty host means every address: an IPv6
 * socket with IPV6_V6ONLY off takes IPv4 too, and a machine without IPv6
 * falls back to 0.0.0.0.  Or take the sockets systemd passes (socket
 * activation, sd_listen_fds(3)) and make each worker's sibling of them.
 * Helpers never log: the reason goes in err.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "listener.h"

#define LISTEN_BACKLOG	4096

#define SD_LISTEN_FDS_START	3	/* sd_listen_fds(3) */

static int	bind_addr(int, const struct sockaddr *, socklen_t, char *,
		    size_t);

void
listener_name(const struct conf_listen *l, char *buf, size_t len)
{
	if (l->host[0] == '\0')
		snprintf(buf, len, "*:%d", l->port);
	else if (strchr(l->host, ':') != NULL)
		snprintf(buf, len, "[%s]:%d", l->host, l->port);
	else
		snprintf(buf, len, "%s:%d", l->host, l->port);
}

static int
bind_addr(int family, const struct sockaddr *sa, socklen_t salen, char *err,
    size_t len)
{
	int	fd, on = 1, off = 0;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, len, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) {
		snprintf(err, len, "setsockopt(SO_REUSEPORT): %s",
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (bind(fd, sa, salen) != 0) {
		snprintf(err, len, "bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, LISTEN_BACKLOG) != 0) {
		snprintf(err, len, "listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Returns a listening fd, or -1 with the reason in err. */
int
listener_open(const struct conf_listen *l, char *err, size_t len)
{
	struct addrinfo	 hints, *res = NULL;
	char		 port[8];
	int		 fd, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", l->port);
	if (l->host[0] == '\0') {
		hints.ai_family = AF_INET6;
		if (getaddrinfo(NULL, port, &hints, &res) == 0) {
			fd = bind_addr(res->ai_family, res->ai_addr,
			    res->ai_addrlen, err, len);
			freeaddrinfo(res);
			if (fd != -1 || errno != EAFNOSUPPORT)
				return fd;
		}
		hints.ai_family = AF_INET;
		res = NULL;
	}
	if ((rc = getaddrinfo(l->host[0] == '\0' ? NULL : l->host, port,
	    &hints, &res)) != 0) {
		snprintf(err, len, "%s: %s", l->host, gai_strerror(rc));
		return -1;
	}
	fd = bind_addr(res->ai_family, res->ai_addr, res->ai_addrlen, err,
	    len);
	freeaddrinfo(res);
	return fd;
}

/*
 * The listening sockets systemd passed us (LISTEN_PID is ours, LISTEN_FDS
 * of them from fd 3): how many, 0 for none, -1 with the reason in err.
 * The variables are unset, so that the workers do not take them too.
 */
int
listener_inherited(int *fds, int max, char *err, size_t len)
{
	const char	*pid = getenv("LISTEN_PID"), *nfds = getenv("LISTEN_FDS");
	int		 i, n, fd, v;
	socklen_t	 vl = sizeof(v);

	if (pid == NULL || nfds == NULL || strtol(pid, NULL, 10) != getpid())
		return 0;
	n = (int)strtol(nfds, NULL, 10);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (n < 1 || n > max) {
		snprintf(err, len, "LISTEN_FDS=%s: from 1 to %d sockets", nfds,
		    max);
		return -1;
	}
	for (i = 0; i < n; i++) {
		fd = SD_LISTEN_FDS_START + i;
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) != 0 ||
		    v == 0) {
			snprintf(err, len, "fd %d from systemd is not a "
			    "listening socket (ListenStream= only)", fd);
			return -1;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fds[i] = fd;
	}
	return n;
}

/*
 * A worker's own SO_REUSEPORT socket on the address of fd, which systemd
 * bound (ReusePort=yes lets us); -1 with the reason in err otherwise.
 */
int
listener_sibling(int fd, char *err, size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		snprintf(err, len, "getsockname: %s", strerror(errno));
		return -1;
	}
	return bind_addr(ss.ss_family, (struct sockaddr *)&ss, sl, err, len);
}

/* "host:port" of a bound socket, for the logs. */
void
listener_fdname(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			 host[INET6_ADDRSTRLEN];
	const void		*a;
	int			 port;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
		snprintf(buf, len, "fd %d", fd);
		return;
	}
	if (ss.ss_family == AF_INET) {
		a = &((struct sockaddr_in *)&ss)->sin_addr;
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else {
		a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	inet_ntop(ss.ss_family, a, host, sizeof(host));
	snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d",
	    host, port);
}

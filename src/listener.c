/*
 * Bind one listening socket.  An empty host means every address: an IPv6
 * socket with IPV6_V6ONLY off takes IPv4 too, and a machine without IPv6
 * falls back to 0.0.0.0.  Helpers never log: the reason goes in err.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "listener.h"

#define LISTEN_BACKLOG	4096

static int	bind_one(const struct addrinfo *, char *, size_t);

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
bind_one(const struct addrinfo *ai, char *err, size_t len)
{
	int	fd, on = 1, off = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
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
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
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
			fd = bind_one(res, err, len);
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
	fd = bind_one(res, err, len);
	freeaddrinfo(res);
	return fd;
}

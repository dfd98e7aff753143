/*
 * slowlink: a slow client link for gateway-presence-storm.test.mjs
 * (issue 16).  It listens on 127.0.0.1 (the port it got is its first line
 * on stdout) and relays each connection it accepts to host:port, reading
 * what the server sends at most `rate` bytes a second.
 *
 * Why not the test's own socket: over loopback (MTU 64 KiB) the kernel
 * sizes a connection's send buffer to 4 MB at once, so a slow reader's
 * backlog sits in the kernel, not in the server's queue, and the server
 * never sees it behind.  A phone on a slow link has a few tens of KB in
 * flight.  So the connection to the server advertises a small MSS and a
 * small receive buffer (the server's send buffer is then sized from them,
 * as over a real link), and is read slowly; towards the test everything
 * goes at once.
 *
 * usage: slowlink port rate [host]  (rate in bytes a second)
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXLINKS	64
#define TICK_MS		10
#define BUFSZ		(256 * 1024)	/* towards the test, per link */

struct link {
	int	 down;		/* the test's side */
	int	 up;		/* the server's side */
	char	 buf[BUFSZ];	/* read from up, not yet written down */
	size_t	 off, len;
};

static struct link	 links[MAXLINKS];
static int		 nlinks;

static int
dial(const char *host, int port)
{
	struct sockaddr_in	 sin;
	int			 fd, v;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	v = 4096;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	v = 1400;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
drop(int i)
{
	close(links[i].down);
	close(links[i].up);
	links[i] = links[--nlinks];
}

/* Relay up to `allow` bytes from up to down; -1: the link is over. */
static int
pump(struct link *l, size_t allow, short urev, short drev)
{
	char	 tmp[BUFSZ];
	ssize_t	 n;

	if (drev & (POLLIN | POLLHUP | POLLERR)) {	/* the test writes */
		if ((n = read(l->down, tmp, sizeof(tmp))) == 0 ||
		    (n == -1 && errno != EAGAIN))
			return -1;
		if (n > 0 && write(l->up, tmp, (size_t)n) != n)
			return -1;
	}
	if ((urev & (POLLIN | POLLHUP | POLLERR)) && l->len == 0 &&
	    allow > 0) {
		if ((n = read(l->up, l->buf, allow)) <= 0)
			return -1;
		l->off = 0;
		l->len = (size_t)n;
	}
	if (l->len > 0) {
		if ((n = write(l->down, l->buf + l->off, l->len)) == -1)
			return errno == EAGAIN ? 0 : -1;
		l->off += (size_t)n;
		l->len -= (size_t)n;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	struct pollfd		 pf[1 + 2 * MAXLINKS];
	const char		*host = argc > 3 ? argv[3] : "127.0.0.1";
	size_t			 per_tick;
	int			 ls, port, i, fd, one = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: slowlink port rate [host]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	port = atoi(argv[1]);
	per_tick = (size_t)atol(argv[2]) * TICK_MS / 1000;
	if (per_tick == 0 || per_tick > BUFSZ)
		per_tick = BUFSZ;
	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 1;
	(void)setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(ls, 16) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sin, &sl) == -1)
		return 1;
	printf("%d\n", ntohs(sin.sin_port));
	fflush(stdout);
	for (;;) {
		pf[0].fd = ls;
		pf[0].events = nlinks < MAXLINKS ? POLLIN : 0;
		for (i = 0; i < nlinks; i++) {
			pf[1 + 2 * i].fd = links[i].down;
			pf[1 + 2 * i].events = POLLIN |
			    (links[i].len > 0 ? POLLOUT : 0);
			pf[2 + 2 * i].fd = links[i].up;
			pf[2 + 2 * i].events = links[i].len == 0 ? POLLIN : 0;
		}
		if (poll(pf, (nfds_t)(1 + 2 * nlinks), -1) == -1 &&
		    errno != EINTR)
			return 1;
		for (i = nlinks - 1; i >= 0; i--)
			if (pump(&links[i], per_tick, pf[2 + 2 * i].revents,
			    pf[1 + 2 * i].revents) != 0)
				drop(i);
		if ((pf[0].revents & POLLIN) &&
		    (fd = accept(ls, NULL, NULL)) != -1) {
			(void)fcntl(fd, F_SETFL, O_NONBLOCK);
			links[nlinks].down = fd;
			if ((links[nlinks].up = dial(host, port)) == -1)
				close(fd);
			else {
				links[nlinks].off = links[nlinks].len = 0;
				nlinks++;
			}
		}
		/* The rate: one read of per_tick bytes a tick, per link. */
		(void)poll(NULL, 0, TICK_MS);
	}
}

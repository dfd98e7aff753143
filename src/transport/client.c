/*
 * The worker's TCP clients (see client.h): every connection is counted
 * against its address from accept (client_admit) or adoption until lws or
 * the hand-off closes it (client_untrack), and every new session against
 * max_unconnected_per_address until its CONNECT (client_hold).
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libwebsockets.h>

#include "client.h"
#include "htab.h"
#include "log.h"
#include "transport.h"

static struct peer *peer_get(struct transport *, const struct sockaddr *);
static void	track(struct transport *, int, struct peer *);
static void	peer_done(struct transport *, struct peer *);
static void	refuse(int);

/*
 * A client address and what it holds on this worker: TCP connections
 * (each in byfd[] from accept or adoption until lws or the hand-off
 * closes it) for max_connections_per_address.
 */
struct peer {
	uint32_t	 hash;		/* first: htab */
	uint32_t	 conns;
	uint32_t	 unconnected;	/* sessions without a CONNECT */
	uint8_t		 addr[16];	/* IPv6, or IPv4-mapped */
};

/* What a refused client hears, if it listens (HTTP/1.1, JSON). */
static const char REFUSED[] = "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: application/json\r\nContent-Length: 59\r\n"
    "Connection: close\r\nRetry-After: 1\r\n\r\n"
    "{\"code\":5,\"message\":\"Too many connections, try again later\"}";

/*
 * The table of peers and this worker's share of max_connections: the
 * limit divided by the workers, rounded up, so that together they never
 * hold more (each worker knows only its own count at once; the master's
 * figures are a second old).  Without the table nothing is limited.
 */
void
client_limits(struct transport *t)
{
	struct rlimit	 rl;
	uint64_t	 seed;
	long		 n = (long)t->conf->workers;

	if (n <= 0 && (n = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		n = 1;
	t->share = ((uint64_t)t->conf->max_connections + (uint64_t)n - 1) /
	    (uint64_t)n;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		rl.rlim_cur = 65536;
	seed = (uint64_t)(uintptr_t)t ^ ((uint64_t)time(NULL) << 20) ^
	    (uint64_t)getpid();
	if ((t->peers = malloc(sizeof(struct htab))) == NULL ||
	    htab_init(t->peers, seed) != 0 ||
	    (t->byfd = calloc(rl.rlim_cur, sizeof(*t->byfd))) == NULL) {
		log_warnx("no memory for the table of client addresses: "
		    "max_connections is not enforced");
		if (t->peers != NULL && ((struct htab *)t->peers)->slot != NULL)
			htab_free(t->peers);
		free(t->peers);
		t->peers = NULL;
		return;
	}
	t->nbyfd = rl.rlim_cur;
}

static bool
peer_eq(const void *e, const void *k)
{
	return memcmp(((const struct peer *)e)->addr, k, 16) == 0;
}

/* The peer of an IPv4 or IPv6 address, created with no connection. */
static struct peer *
peer_get(struct transport *t, const struct sockaddr *sa)
{
	struct peer	*p;
	uint8_t		 a[16];
	uint32_t	 h;

	if (sa->sa_family == AF_INET6)
		memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr, 16);
	else if (sa->sa_family == AF_INET) {
		memset(a, 0, 10);
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr, 4);
	} else
		return NULL;
	h = htab_hash(t->peers, a, sizeof(a));
	if ((p = htab_find(t->peers, h, peer_eq, a, NULL)) != NULL)
		return p;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->hash = h;
	memcpy(p->addr, a, sizeof(a));
	if (htab_insert(t->peers, p) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

/* fd is a TCP client of peer p, until client_untrack(). */
static void
track(struct transport *t, int fd, struct peer *p)
{
	if (p == NULL || fd < 0 || (size_t)fd >= t->nbyfd)
		return;
	if (t->byfd[fd] != NULL)	/* closed behind our back: reused */
		client_untrack(t, fd);
	t->byfd[fd] = p;
	p->conns++;
	t->nclients++;
}

/* The fd is closing: no longer a client of its peer. */
void
client_untrack(struct transport *t, int fd)
{
	struct peer	*p;

	if (fd < 0 || (size_t)fd >= t->nbyfd || (p = t->byfd[fd]) == NULL)
		return;
	t->byfd[fd] = NULL;
	t->nclients--;
	p->conns--;
	peer_done(t, p);
}

/* A peer that holds nothing any more is forgotten. */
static void
peer_done(struct transport *t, struct peer *p)
{
	size_t	idx;

	if (p->conns > 0 || p->unconnected > 0)
		return;
	if (htab_find(t->peers, p->hash, peer_eq, p->addr, &idx) != NULL)
		htab_remove(t->peers, idx);
	free(p);
}

/*
 * A new session on the connection fd: it counts against its address's
 * max_unconnected_per_address until its first CONNECT or its close
 * (client_unhold).  A polling client opens a session per handshake
 * without keeping a connection, so max_connections_per_address alone
 * would not bound them.  -1: refused and counted; 0: *held is the peer
 * to release, or NULL when the connection has no address we track (a
 * TLS front's socket pair, or no table).
 */
int
client_hold(struct transport *t, int fd, struct peer **held)
{
	*held = NULL;
	if (client_full(t, fd))
		return -1;
	if (t->peers == NULL || fd < 0 || (size_t)fd >= t->nbyfd ||
	    t->byfd[fd] == NULL)
		return 0;
	*held = t->byfd[fd];
	(*held)->unconnected++;
	return 0;
}

/*
 * Would a new session on fd pass its address's
 * max_unconnected_per_address?  Then it is refused, and counted here: a
 * WebSocket handshake asks before the upgrade, and holds once the
 * session exists (client_hold).
 */
bool
client_full(struct transport *t, int fd)
{
	struct peer	*p;

	if (t->peers == NULL || fd < 0 || (size_t)fd >= t->nbyfd ||
	    (p = t->byfd[fd]) == NULL ||
	    t->conf->max_unconnected_per_address <= 0 ||
	    p->unconnected < (uint32_t)t->conf->max_unconnected_per_address)
		return false;
	t->stats.sessions_refused_addr++;
	return true;
}

/* The session that held p connected or closed. */
void
client_unhold(struct transport *t, struct peer *p)
{
	if (p == NULL)
		return;
	p->unconnected--;
	peer_done(t, p);
}

/*
 * Refuse a connection at accept: the 503 goes out before we read the
 * request (HTTP clients take an early answer; a WebSocket client sees its
 * upgrade answered with it), then the socket closes.
 */
static void
refuse(int fd)
{
	(void)send(fd, REFUSED, sizeof(REFUSED) - 1, MSG_DONTWAIT |
	    MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	close(fd);
}

/*
 * A connection just accepted from sa: 0 and it is tracked, or -1 and it
 * was refused and closed (max_connections, max_connections_per_address).
 */
int
client_admit(struct transport *t, int fd, const void *sa, unsigned salen)
{
	struct peer	*p;
	long long	 per = t->conf->max_connections_per_address;

	(void)salen;
	if (t->peers == NULL)
		return 0;
	if (t->nclients >= t->share) {
		t->stats.conns_refused++;
		refuse(fd);
		return -1;
	}
	if ((p = peer_get(t, sa)) == NULL)
		return 0;
	if (per > 0 && p->conns >= (uint64_t)per) {
		t->stats.conns_refused_addr++;
		refuse(fd);
		return -1;
	}
	track(t, fd, p);
	return 0;
}

/*
 * Hand an accepted socket to lws (HTTP, TLS if the vhost has it, as
 * lws_adopt_socket_vhost() does); lws closes it if adoption fails.
 */
int
client_adopt(struct transport *t, int fd)
{
	return client_adopt_as(t, fd, LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP |
	    LWS_ADOPT_ALLOW_SSL, NULL);
}

/*
 * Hand lws a socket of another kind: lws_adoption_type flags, and the
 * protocol of a raw one.
 */
int
client_adopt_as(struct transport *t, int fd, int type, const char *proto)
{
	lws_sock_file_fd_type	u;
	struct lws		*wsi;
	struct sockaddr_storage	ss;
	socklen_t		sl = sizeof(ss);

	/* One another worker handed us: counted here, never refused. */
	if (t->peers != NULL && fd >= 0 && (size_t)fd < t->nbyfd &&
	    t->byfd[fd] == NULL &&
	    getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		track(t, fd, peer_get(t, (struct sockaddr *)&ss));
	u.sockfd = fd;
	if ((wsi = lws_adopt_descriptor_vhost(t->vhost,
	    (lws_adoption_type)type, u, proto, NULL)) == NULL) {
		/* A failed TLS handshake, mostly: counted, not logged. */
		t->stats.adopt_failures++;
		client_untrack(t, fd);	/* lws closed it */
		return -1;
	}
	/*
	 * An HTTP connection's fd, for WSI_DESTROY (lws forgets it first);
	 * a TLS front's opaque data is tlsfront.c's: RAW_CLOSE untracks it.
	 */
	if (proto == NULL)
		lws_set_opaque_user_data(wsi, (void *)(intptr_t)(fd + 1));
	return 0;
}

/* A plain connection on a TLS vhost: the far end of a TLS front. */
int
client_adopt_plain(struct transport *t, int fd)
{
	return client_adopt_as(t, fd, LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP,
	    NULL);
}

/* The table of peers goes with the transport. */
void
client_free(struct transport *t)
{
	if (t->peers != NULL) {
		for (size_t i = 0; i < t->nbyfd; i++)
			client_untrack(t, (int)i);
		htab_free(t->peers);
		free(t->peers);
	}
	free(t->byfd);
}

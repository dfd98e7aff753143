/*
 * Client address lists (see allow.h): the status_allow key, which keeps
 * /health and /metrics to the addresses an operator names.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"

static int	parse_one(const char *, size_t, struct allow_net *);
static int	net_match(const struct allow_net *, const uint8_t *, int);

/* "addr" or "addr/bits"; 0 or -1. */
static int
parse_one(const char *s, size_t len, struct allow_net *net)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long	 bits;
	int		 max;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(net, 0, sizeof(*net));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, net->addr) == 1)
		max = 32;
	else if (inet_pton(AF_INET6, buf, net->addr) == 1) {
		net->v6 = 1;
		max = 128;
	} else
		return -1;
	bits = (unsigned long)max;
	if (slash != NULL) {
		if (*slash < '0' || *slash > '9')
			return -1;
		bits = strtoul(slash, &end, 10);
		if (*end != '\0' || bits > (unsigned long)max)
			return -1;
	}
	net->bits = (uint8_t)bits;
	return 0;
}

/*
 * Parse a list into a.  0, or -1 with err naming the entry that is not an
 * address or a CIDR block, or saying there are too many.
 */
int
allow_parse(const char *list, struct allow *a, char *err, size_t errlen)
{
	const char	*p = list;
	size_t		 len;

	memset(a, 0, sizeof(*a));
	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			return 0;
		len = strcspn(p, ", \t");
		if (a->n == ALLOW_MAX) {
			snprintf(err, errlen, "more than %d entries", ALLOW_MAX);
			return -1;
		}
		if (parse_one(p, len, &a->nets[a->n]) != 0) {
			snprintf(err, errlen, "\"%.*s\" is not an address or an "
			    "address/prefix", len > 64 ? 64 : (int)len, p);
			return -1;
		}
		a->n++;
		p += len;
	}
}

static int
net_match(const struct allow_net *net, const uint8_t *addr, int v6)
{
	unsigned	full = net->bits / 8, rest = net->bits % 8;
	uint8_t		mask;

	if (net->v6 != v6)
		return 0;
	if (memcmp(net->addr, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (addr[full] & mask);
}

/*
 * Is this peer allowed?  An empty list allows all.  An IPv4 client seen
 * on an IPv6 socket (::ffff:a.b.c.d) matches the IPv4 entries too.  A
 * peer that is not IP (a unix socket) matches nothing.
 */
int
allow_match(const struct allow *a, const struct sockaddr *sa)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const uint8_t		*addr;
	size_t			 i;
	int			 v6;

	if (a->n == 0)
		return 1;
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		addr = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
		v6 = 0;
	} else if (sa->sa_family == AF_INET6) {
		addr = ((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr.s6_addr;
		v6 = 1;
	} else
		return 0;
	for (i = 0; i < a->n; i++) {
		if (net_match(&a->nets[i], addr, v6))
			return 1;
		if (v6 && memcmp(addr, mapped, sizeof(mapped)) == 0 &&
		    net_match(&a->nets[i], addr + 12, 0))
			return 1;
	}
	return 0;
}

/*
 * Client address lists, as nginx's allow directive guards a status page:
 * addresses and CIDR blocks, IPv4 and IPv6, separated by commas or blanks.
 * An empty list allows everyone.  Pure: parsing and matching only.
 */
#ifndef SGW_ALLOW_H
#define SGW_ALLOW_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

#define ALLOW_MAX	32

struct allow_net {
	uint8_t		 v6;		/* 0: IPv4 (addr[0..3]) */
	uint8_t		 bits;		/* prefix length */
	uint8_t		 addr[16];
};

struct allow {
	struct allow_net nets[ALLOW_MAX];
	size_t		 n;
};

/* allow.c */
int	allow_parse(const char *, struct allow *, char *, size_t);
int	allow_match(const struct allow *, const struct sockaddr *);

#endif /* SGW_ALLOW_H */

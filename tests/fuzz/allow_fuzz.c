/*
 * libFuzzer harness for allow.c (status_allow).  The input is a list; its
 * first 16 bytes also serve as the client address to match (IPv4 from the
 * first 4, IPv6 from 16).  Checked, beyond memory safety: a list that
 * parses holds at most ALLOW_MAX entries with prefixes in range; an
 * address listed exactly matches; an empty list allows all.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct allow		a, one;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	char			*s, err[160], text[INET6_ADDRSTRLEN];
	size_t			i;

	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	sin.sin_family = AF_INET;
	sin6.sin6_family = AF_INET6;
	memcpy(&sin.sin_addr, data, len < 4 ? len : 4);
	memcpy(&sin6.sin6_addr, data, len < 16 ? len : 16);
	if (allow_parse(s, &a, err, sizeof(err)) == 0) {
		if (a.n > ALLOW_MAX)
			abort();
		for (i = 0; i < a.n; i++)
			if (a.nets[i].bits > (a.nets[i].v6 ? 128 : 32))
				abort();
		(void)allow_match(&a, (struct sockaddr *)&sin);
		(void)allow_match(&a, (struct sockaddr *)&sin6);
		if (a.n == 0 && !allow_match(&a, (struct sockaddr *)&sin))
			abort();
	} else if (err[0] == '\0')
		abort();
	/* The address itself, written out, matches itself. */
	inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof(text));
	if (allow_parse(text, &one, err, sizeof(err)) != 0 ||
	    !allow_match(&one, (struct sockaddr *)&sin6))
		abort();
	inet_ntop(AF_INET, &sin.sin_addr, text, sizeof(text));
	if (allow_parse(text, &one, err, sizeof(err)) != 0 ||
	    !allow_match(&one, (struct sockaddr *)&sin))
		abort();
	free(s);
	return 0;
}

/*
 * A worker's TCP clients, by address: max_connections (this worker's share
 * of it), max_connections_per_address and max_unconnected_per_address, and
 * the adoption of an accepted or handed-over socket into lws.  Below every
 * other transport file but frame.c: it calls none of them.
 */
#ifndef SGW_CLIENT_H
#define SGW_CLIENT_H

#include <stdbool.h>

struct peer;
struct transport;

/* client.c */
void	client_limits(struct transport *);
int	client_admit(struct transport *, int, const void *, unsigned);
void	client_untrack(struct transport *, int);
int	client_hold(struct transport *, int, struct peer **);
bool	client_full(struct transport *, int);
void	client_unhold(struct transport *, struct peer *);
int	client_adopt(struct transport *, int);
int	client_adopt_plain(struct transport *, int);
int	client_adopt_as(struct transport *, int, int, const char *);
void	client_free(struct transport *);

#endif /* SGW_CLIENT_H */

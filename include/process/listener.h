/*
 * Listening sockets, bound by the master before it forks.  Each worker slot
 * has its own SO_REUSEPORT socket per listen address, so the kernel spreads
 * connections evenly, and the master keeps every fd so that a respawned or
 * reloaded worker inherits the same queue and no connection is lost.
 */
#ifndef SGW_LISTENER_H
#define SGW_LISTENER_H

#include <stddef.h>

struct conf_listen;

/* listener.c */
int	listener_open(const struct conf_listen *, char *, size_t);
void	listener_name(const struct conf_listen *, char *, size_t);
int	listener_inherited(int *, int, char *, size_t);
int	listener_sibling(int, char *, size_t);
void	listener_fdname(int, char *, size_t);

#endif /* SGW_LISTENER_H */

/*
 * Layer 2: the worker's HTTP and WebSocket server on libwebsockets, running
 * on the worker's libev loop.  It owns every client connection of the
 * worker.
 */
#ifndef SGW_TRANSPORT_H
#define SGW_TRANSPORT_H

struct ev_loop;
struct worker_args;
struct transport;

/* transport.c */
struct transport *transport_new(struct ev_loop *, const struct worker_args *);
int	transport_adopt(struct transport *, int);
void	transport_drain(struct transport *);
int	transport_free(struct transport *);

#endif /* SGW_TRANSPORT_H */

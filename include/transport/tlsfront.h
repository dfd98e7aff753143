/*
 * TLS with several workers.  The hand-off (accept.h) routes a connection
 * by its request line, which TLS hides.  So a TLS connection is not given
 * to lws's HTTP server: the accepting worker terminates TLS itself, reads
 * the request line in clear, and joins the client to the worker that
 * owns the session it names (or to itself) through a unix socket pair,
 * whose far end that worker serves as a plain HTTP connection.  The
 * accepting worker then copies bytes between the two, with flow control.
 * The cost is one more hop for every byte of a TLS client; the gain is
 * that an upgrade to WebSocket always reaches the session's owner.
 */
#ifndef SGW_TLSFRONT_H
#define SGW_TLSFRONT_H

#include <stddef.h>

struct lws;
struct transport;

#define TLSFRONT_PROTOCOL	"sgw-tls"
#define TLSFRONT_PIPE_PROTOCOL	"sgw-tls-pipe"

/* tlsfront.c */
int	tlsfront_adopt(struct transport *, int);
int	tlsfront_callback(struct lws *, int, void *, size_t, int);

#endif

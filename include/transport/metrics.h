/*
 * /health and /metrics on the client port.
 */
#ifndef SGW_METRICS_H
#define SGW_METRICS_H

struct conn;
struct lws;
struct transport;

/* metrics.c */
int	metrics_health(struct transport *, struct lws *, struct conn *);
int	metrics_reply(struct transport *, struct lws *, struct conn *);

#endif /* SGW_METRICS_H */

/*
 * Layer 4: the gateway application, the seed's event contract on top of
 * the Socket.IO layer.
 */
#ifndef SGW_GATEWAY_H
#define SGW_GATEWAY_H

struct app;

/* gateway.c */
extern const struct app	gateway_app;

#endif /* SGW_GATEWAY_H */

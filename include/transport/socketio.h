/*
 * The Socket.IO layer of a session: namespaces, CONNECT and DISCONNECT,
 * events and acks, binary attachments; it calls the application (app.h).
 */
#ifndef SGW_SOCKETIO_H
#define SGW_SOCKETIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct eio_packet;
struct session;
struct sio_attachment;

/* socketio.c */
void	socketio_receive(struct session *, const struct eio_packet *);
void	socketio_closed(struct session *, const char *);
int	socketio_emit(struct session *, unsigned, const char *, json_t *);
int	socketio_send_binary(struct session *, unsigned, int, int64_t,
	    json_t *, const struct sio_attachment *, unsigned);
int	socketio_emit_ack(struct session *, unsigned, const char *, json_t *,
	    int64_t);
int	socketio_ack(struct session *, unsigned, int64_t, json_t *);
int	socketio_ack_text(struct session *, unsigned, int64_t, const char *,
	    size_t);
void	socketio_disconnect(struct session *, unsigned);
int	socketio_connect_answer(struct session *, unsigned, const char *,
	    json_t *);
int	socketio_set_ids(struct session *, const char *, const char *);
bool	socketio_recoverable(const char *);

#endif /* SGW_SOCKETIO_H */

/*
 * emit: what the gateway sends, as frames, and sending them to this
 * worker's sessions.  An event's argument is serialized once, as
 * JavaScript would, and the whole packet encoded once into a frame that
 * every recipient shares.  The bottom of the gateway's files (gateway.h):
 * it calls none of the others.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "gateway.h"
#include "jsonwrite.h"
#include "reclog.h"
#include "session.h"
#include "sio.h"
#include "transport.h"

/*
 * With the recovery log (issue 15), every event carries its offset as its
 * last argument, socket.io's way: a placeholder here, written by
 * logdeliver.c's append.  Set once, by gw_init.
 */
static const char	 placeholder[] = "\"xxxxxxxxxxxxxxxxxxxxxxxx\"";
static size_t		 nargs = 1;

void
emit_offsets(bool on)
{
	nargs = on ? 2 : 1;
}

/* The event with its one argument, as a frame; NULL: out of memory. */
struct frame *
emit_frame(const char *event, json_t *arg)
{
	char		 small[1024], *json = small;
	size_t		 len;
	struct frame	*f;

	len = jsonwrite_dump(arg, small, sizeof(small));
	if (len >= sizeof(small)) {
		if ((json = malloc(len + 1)) == NULL)
			return NULL;
		jsonwrite_dump(arg, json, len + 1);
	}
	f = emit_frame_text(event, json, len);
	if (json != small)
		free(json);
	return f;
}

/*
 * The same, the argument already JSON text (len bytes) as jsonwrite
 * writes it (issue 16: a direct message spliced, never a tree).
 */
struct frame *
emit_frame_text(const char *event, const char *json, size_t len)
{
	const char	*args[2];
	size_t		 jlen[2], n, cap;
	struct frame	*f;

	args[0] = json;
	jlen[0] = len;
	args[1] = placeholder;
	jlen[1] = sizeof(placeholder) - 1;
	/*
	 * Encoded once, into room for the worst case ("42[", the name with
	 * every byte escaped, the arguments and their commas, "]", the
	 * encoder's NUL); the frame is then as long as what was written.
	 */
	cap = 3 + 6 * strlen(event) + 2 + jlen[0] + 1 + jlen[1] + 1 + 2;
	if ((f = frame_new(cap, false)) == NULL)
		return NULL;
	n = sio_encode_event((char *)FRAME_DATA(f), cap, NULL, event, args,
	    jlen, nargs, -1);
	if (n == 0 || n >= cap) {
		frame_unref(f);
		return NULL;
	}
	f->len = (uint32_t)n;
	return f;
}

/* One event with one argument to one session. */
void
emit_to(struct gateway *g, struct session *s, const char *event,
    json_t *arg)
{
	emit_frame_to(g, s, emit_frame(event, arg));
}

/* A frame (NULL: none) to one session; takes over the reference. */
void
emit_frame_to(struct gateway *g, struct session *s, struct frame *f)
{
	struct frame	*d;

	if (f == NULL)
		return;
	if (logdeliver_put(g, RECLOG_TO_SOCKET, false, s->sio_sid,
	    strlen(s->sio_sid), NULL, f, s, NULL, NULL) != 0) {
		d = logdeliver_strip(f);
		session_send(s, d);
		g->messages++;
	}
	frame_unref(f);
}

/*
 * A frame to every connected local session but one (presence in mode
 * "all").  The caller keeps its reference.
 */
void
emit_all(struct gateway *g, struct frame *f, struct session *except)
{
	struct session	*s;

	if (logdeliver_put(g, RECLOG_TO_ROOM, false, LOGDEL_ALL,
	    sizeof(LOGDEL_ALL) - 1, except != NULL ? except->sio_sid : NULL,
	    f, NULL, NULL, NULL) == 0)
		return;
	f = logdeliver_strip(f);
	for (s = g->t->all; s != NULL; s = s->next)
		if (s != except && s->nsp_mask != 0 &&
		    s->state != SESSION_CLOSED) {
			session_send(s, frame_ref(f));
			g->messages++;
		}
	frame_unref(f);
}

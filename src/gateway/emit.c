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
#include "session.h"
#include "sio.h"
#include "transport.h"

/* The event with its one argument, as a frame; NULL: out of memory. */
struct frame *
emit_frame(const char *event, json_t *arg)
{
	char		 small[1024], *json = small, *out;
	const char	*args[1];
	size_t		 jlen, n;
	struct frame	*f = NULL;

	jlen = jsonwrite_dump(arg, small, sizeof(small));
	if (jlen >= sizeof(small)) {
		if ((json = malloc(jlen + 1)) == NULL)
			return NULL;
		jsonwrite_dump(arg, json, jlen + 1);
	}
	args[0] = json;
	n = sio_encode_event(NULL, 0, NULL, event, args, &jlen, 1, -1);
	if (n > 0 && (f = frame_new(n, false)) != NULL) {
		out = (char *)FRAME_DATA(f);
		/* The encoder NUL-terminates when it has room; it has not. */
		if (sio_encode_event(out, n, NULL, event, args, &jlen, 1, -1)
		    != n) {
			frame_unref(f);
			f = NULL;
		}
	}
	if (json != small)
		free(json);
	return f;
}

/* One event with one argument to one session. */
void
emit_to(struct gateway *g, struct session *s, const char *event,
    json_t *arg)
{
	struct frame	*f;

	if ((f = emit_frame(event, arg)) != NULL) {
		session_send(s, f);
		g->messages++;
	}
}

/*
 * A frame to every connected local session but one (presence in mode
 * "all").  The caller keeps its reference.
 */
void
emit_all(struct gateway *g, struct frame *f, struct session *except)
{
	struct session	*s;

	for (s = g->t->all; s != NULL; s = s->next)
		if (s != except && s->nsp_mask != 0 &&
		    s->state != SESSION_CLOSED) {
			session_send(s, frame_ref(f));
			g->messages++;
		}
}

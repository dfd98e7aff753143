/*
 * Frames: one encoded Engine.IO packet, shared by every recipient.
 *
 * A broadcast is encoded once into a frame and each recipient's queue holds
 * a reference, so fan-out does no per-recipient encoding or copying.  The
 * bytes sit after FRAME_PRE bytes of headroom, which libwebsockets needs to
 * write the WebSocket header in place (LWS_PRE); every recipient gets the
 * same unmasked server header, so sharing the headroom is safe in our
 * single-threaded workers.
 *
 * A text frame holds the packet's text form ("42[...]", "2"); a binary
 * frame holds the raw bytes of a binary message.
 */
#ifndef SGW_FRAME_H
#define SGW_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_PRE	16	/* == LWS_PRE of libwebsockets 4.1; checked */

struct frame {
	uint32_t	 refs;
	uint32_t	 len;
	bool		 binary;
	uint8_t		 buf[];	/* FRAME_PRE headroom, then len bytes */
};

#define FRAME_DATA(f)	((f)->buf + FRAME_PRE)

/* A per-connection queue of frame references, with a byte count. */
struct outq {
	struct frame	**v;
	uint32_t	  head;
	uint32_t	  n;
	uint32_t	  cap;
	size_t		  bytes;
};

/* frame.c */
struct frame	*frame_new(size_t, bool);
struct frame	*frame_text(const void *, size_t);
struct frame	*frame_ref(struct frame *);
void		 frame_unref(struct frame *);
int		 outq_push(struct outq *, struct frame *);
int		 outq_unshift(struct outq *, struct frame *);
struct frame	*outq_peek(const struct outq *, uint32_t);
struct frame	*outq_shift(struct outq *);
void		 outq_clear(struct outq *);
size_t		 outq_total(void);

#endif /* SGW_FRAME_H */

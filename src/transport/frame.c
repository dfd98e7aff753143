/*
 * Reference-counted frames and the per-connection queue.  The queue is a
 * ring of pointers that starts with no allocation at all: an idle
 * connection, the common case, costs nothing here.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"

/*
 * Bytes in every queue of the process (one worker a process): the
 * output_queue_budget's measure (issue 16).
 */
static size_t	queued_all;

size_t
outq_total(void)
{
	return queued_all;
}

struct frame *
frame_new(size_t len, bool binary)
{
	struct frame	*f;

	if (len > UINT32_MAX - FRAME_PRE)
		return NULL;
	if ((f = malloc(sizeof(*f) + FRAME_PRE + len)) == NULL)
		return NULL;
	f->refs = 1;
	f->len = (uint32_t)len;
	f->binary = binary;
	return f;
}

/* A text frame holding a copy of len bytes. */
struct frame *
frame_text(const void *data, size_t len)
{
	struct frame	*f;

	if ((f = frame_new(len, false)) != NULL)
		memcpy(FRAME_DATA(f), data, len);
	return f;
}

struct frame *
frame_ref(struct frame *f)
{
	f->refs++;
	return f;
}

void
frame_unref(struct frame *f)
{
	if (f != NULL && --f->refs == 0)
		free(f);
}

/* Append a reference the caller hands over; -1 when out of memory. */
int
outq_push(struct outq *q, struct frame *f)
{
	struct frame	**nv;
	uint32_t	  ncap, i;

	if (q->n == q->cap) {
		ncap = q->cap == 0 ? 4 : q->cap * 2;
		if ((nv = malloc(ncap * sizeof(*nv))) == NULL)
			return -1;
		for (i = 0; i < q->n; i++)
			nv[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = nv;
		q->cap = ncap;
		q->head = 0;
	}
	q->v[(q->head + q->n) % q->cap] = f;
	q->n++;
	q->bytes += f->len;
	queued_all += f->len;
	return 0;
}

/*
 * Put a reference before everything queued (a ping: it must not wait
 * behind a long queue).  The queue holds whole frames only (a frame half
 * written is lws's), so this is always between two frames.  -1 when out
 * of memory.
 */
int
outq_unshift(struct outq *q, struct frame *f)
{
	uint32_t	last, first;

	if (outq_push(q, f) != 0)
		return -1;
	/* outq_push put it last: move it before the head. */
	last = (q->head + q->n - 1) % q->cap;
	first = (q->head + q->cap - 1) % q->cap;
	if (first != last) {	/* else the ring is full: it is there */
		q->v[first] = f;
		q->v[last] = NULL;
	}
	q->head = first;
	return 0;
}

struct frame *
outq_peek(const struct outq *q, uint32_t i)
{
	return i < q->n ? q->v[(q->head + i) % q->cap] : NULL;
}

/* Remove the oldest frame and hand its reference to the caller. */
struct frame *
outq_shift(struct outq *q)
{
	struct frame	*f;

	if (q->n == 0)
		return NULL;
	f = q->v[q->head];
	q->head = (q->head + 1) % q->cap;
	q->n--;
	q->bytes -= f->len;
	queued_all -= f->len;
	if (q->n == 0 && q->cap > 16) {
		/* A burst is over: give the memory back. */
		free(q->v);
		q->v = NULL;
		q->cap = 0;
		q->head = 0;
	}
	return f;
}

void
outq_clear(struct outq *q)
{
	while (q->n > 0)
		frame_unref(outq_shift(q));
	free(q->v);
	memset(q, 0, sizeof(*q));
}

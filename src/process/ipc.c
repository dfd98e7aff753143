/*
 * Typed messages over a socketpair (see ipc.h), after OpenSMTPD's mproc and
 * OpenBSD's imsg: the reader checks every header before it trusts a
 * length, and the writer queues what the socket does not take at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"

static void	on_io(struct ev_loop *, ev_io *, int);
static int	do_read(struct ipc *);
static int	do_write(struct ipc *);
static void	set_events(struct ipc *, int);

void
ipc_init(struct ipc *c, struct ev_loop *loop, int fd, ipc_fn fn, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->fn = fn;
	c->arg = arg;
	ev_io_init(&c->io, on_io, fd, EV_READ);
	ev_io_start(loop, &c->io);
}

static void
set_events(struct ipc *c, int events)
{
	if (c->io.events == events)
		return;
	ev_io_stop(c->loop, &c->io);
	ev_io_set(&c->io, c->io.fd, events);
	ev_io_start(c->loop, &c->io);
}

/* Queue one message and try to write it now. */
int
ipc_send(struct ipc *c, int type, const void *data, size_t len)
{
	struct ipc_hdr	 h;

	if (c->io.fd < 0 || len > IPC_MAX)
		return -1;
	if (buf_reserve(&c->out, sizeof(h) + len, BUF_NOMAX) != 0)
		return -1;
	h.version = IPC_VERSION;
	h.type = (uint16_t)type;
	h.len = (uint32_t)len;
	/* Room is reserved for both: neither append can fail. */
	buf_append(&c->out, &h, sizeof(h));
	buf_append(&c->out, data, len);
	if (do_write(c) != 0) {
		/*
		 * The peer is gone.  Closing here told nobody: a worker whose
		 * first READY met a dead master lost its channel unheard and
		 * served on, an orphan, for good.  on_io meets the same error
		 * in the loop, closes, and calls the owner back with -1.
		 */
		set_events(c, EV_READ | EV_WRITE);
		return -1;
	}
	return 0;
}

static int
do_write(struct ipc *c)
{
	ssize_t	n;

	while (c->out.len > 0) {
		n = write(c->io.fd, c->out.p, c->out.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return -1;
		buf_consume(&c->out, (size_t)n);
	}
	set_events(c, c->out.len > 0 ? EV_READ | EV_WRITE : EV_READ);
	return 0;
}

/* Read what is there and hand over every whole, valid message. */
static int
do_read(struct ipc *c)
{
	struct ipc_hdr	 h;
	size_t		 off = 0;
	ssize_t		 n;

	if (buf_reserve(&c->in, 65536, BUF_NOMAX) != 0)
		return -1;
	n = read(c->io.fd, c->in.p + c->in.len, c->in.cap - c->in.len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	c->in.len += (size_t)n;
	while (c->in.len - off >= sizeof(h)) {
		memcpy(&h, c->in.p + off, sizeof(h));
		if (h.version != IPC_VERSION || h.type == 0 ||
		    h.type > IPC_TYPE_LAST || h.len > IPC_MAX) {
			log_warnx("ipc: bad message (version %u, type %u, "
			    "%u bytes); closing the channel", h.version, h.type,
			    h.len);
			return -1;
		}
		if (c->in.len - off < sizeof(h) + h.len)
			break;
		c->fn(c, h.type, c->in.p + off + sizeof(h), h.len, c->arg);
		if (c->io.fd < 0)
			return 0;	/* closed by the callback */
		off += sizeof(h) + h.len;
	}
	buf_consume(&c->in, off);
	/* Keep the buffer for a burst small once it is over. */
	buf_release(&c->in, 4 * 65536);
	return 0;
}

static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ipc	*c = (struct ipc *)w;
	ipc_fn		 fn = c->fn;
	void		*arg = c->arg;

	(void)loop;
	if ((revents & EV_WRITE) && do_write(c) != 0) {
		ipc_close(c);
		fn(c, -1, NULL, 0, arg);
		return;
	}
	if ((revents & EV_READ) && do_read(c) != 0 && c->io.fd >= 0) {
		ipc_close(c);
		fn(c, -1, NULL, 0, arg);
	}
}

void
ipc_close(struct ipc *c)
{
	if (c->io.fd < 0)
		return;
	ev_io_stop(c->loop, &c->io);
	close(c->io.fd);
	c->io.fd = -1;
	buf_free(&c->in);
	buf_free(&c->out);
}

/*
 * The channel between the master and one worker: a socketpair carrying
 * typed messages (header {version, type, len}, then len bytes), read and
 * written without blocking on either side's libev loop.  A message with a
 * wrong version, an unknown type or an impossible size closes the channel
 * (the peer is then treated as gone): it never takes the process down.
 */
#ifndef SGW_IPC_H
#define SGW_IPC_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define IPC_VERSION	1
#define IPC_MAX		(1024 * 1024)	/* largest payload */

enum ipc_type {
	IPC_READY = 1,		/* worker -> master: serving */
	IPC_STATS,		/* worker -> master: struct worker_stats */
	IPC_AGGREGATE,		/* master -> worker: every worker's stats */
	IPC_PEERS,		/* master -> worker: live worker ids (int32) */
	IPC_TYPE_LAST = IPC_PEERS
};

struct ipc_hdr {
	uint16_t	version;
	uint16_t	type;
	uint32_t	len;
};

struct ipc;
typedef void (*ipc_fn)(struct ipc *, int, const void *, size_t, void *);

struct ipc {
	ev_io		 io;
	struct ev_loop	*loop;
	ipc_fn		 fn;		/* type -1: the channel closed */
	void		*arg;
	struct buf	 in, out;	/* read, and queued to write */
};

/* ipc.c */
void	ipc_init(struct ipc *, struct ev_loop *, int, ipc_fn, void *);
int	ipc_send(struct ipc *, int, const void *, size_t);
void	ipc_close(struct ipc *);

#endif /* SGW_IPC_H */

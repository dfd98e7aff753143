/*
 * Passing a descriptor to another process over a unix socket (SCM_RIGHTS),
 * after nginx's ngx_write_channel/ngx_read_channel: one byte says what the
 * descriptor is, and the receiver learns the sender's credentials
 * (SO_PASSCRED on its socket, unixsock_bind), so that it can close unread
 * a descriptor from anyone it does not trust.
 */
#ifndef SGW_FDPASS_H
#define SGW_FDPASS_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

/*
 * Room for a few descriptors per message so that a hostile sender's extra
 * ones are ours to close, not left open in this process; the kernel
 * closes any beyond that (and sets truncated).
 */
#define FDPASS_MAX	4

struct fdpass_msg {
	char		 kind;		/* the byte sent with them */
	ssize_t		 n;		/* bytes: 1 from fdpass_send */
	int		 truncated;	/* MSG_TRUNC or MSG_CTRUNC */
	int		 fds[FDPASS_MAX];
	size_t		 nfds;
	struct ucred	 cred;		/* zero unless has_cred */
	int		 has_cred;
};

/* fdpass.c */
int	fdpass_send(int, const void *, socklen_t, char, int);
int	fdpass_recv(int, struct fdpass_msg *);

#endif /* SGW_FDPASS_H */

/*
 * Descriptors over unix sockets (see fdpass.h).  Neither side blocks: a
 * datagram socket's message carries one byte and one descriptor, so it
 * arrives whole or not at all and there is no framing to get wrong.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <string.h>

#include "fdpass.h"

static void	collect(struct msghdr *, struct fdpass_msg *);

/*
 * Send fd, with the byte kind, on sock to the address to (NULL: sock is
 * connected).  0 when it went; -1 with errno set.  The caller still holds
 * fd and closes it.
 */
int
fdpass_send(int sock, const void *to, socklen_t tolen, char kind, int fd)
{
	struct msghdr		 msg;
	struct cmsghdr		*cm;
	struct iovec		 iov;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	}			 ctl;

	memset(&msg, 0, sizeof(msg));
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_name = (void *)(uintptr_t)to;
	msg.msg_namelen = to != NULL ? tolen : 0;
	iov.iov_base = &kind;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* A message's descriptors (at most FDPASS_MAX) and its sender. */
static void
collect(struct msghdr *msg, struct fdpass_msg *m)
{
	struct cmsghdr	*cm;
	size_t		 n;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			memcpy(&m->cred, CMSG_DATA(cm), sizeof(m->cred));
			m->has_cred = 1;
		} else if (cm->cmsg_type == SCM_RIGHTS) {
			n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			while (n-- > 0 && m->nfds < FDPASS_MAX) {
				memcpy(&m->fds[m->nfds], CMSG_DATA(cm) +
				    m->nfds * sizeof(int), sizeof(int));
				m->nfds++;
			}
		}
	}
}

/*
 * Receive one message from sock without blocking: 0 and *m filled (its
 * descriptors are the caller's to use or close, close-on-exec already),
 * or -1 when there is none (errno EAGAIN) or on an error.  Whether the
 * sender may pass descriptors at all is the caller's to judge, from
 * m->cred; a sender without credentials has has_cred 0.
 */
int
fdpass_recv(int sock, struct fdpass_msg *m)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(struct ucred)) +
				    CMSG_SPACE(FDPASS_MAX * sizeof(int))];
	}		 ctl;

	memset(m, 0, sizeof(*m));
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &m->kind;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	if ((m->n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) < 0)
		return -1;
	collect(&msg, m);
	m->truncated = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	return 0;
}

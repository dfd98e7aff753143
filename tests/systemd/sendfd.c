/*
 * sendfd: a hostile local process for tests/integration/hostile-trust.test.mjs
 * (issue 11.16).  It makes a unix socket pair, passes one end (SCM_RIGHTS)
 * in a datagram of one byte, the kind, to the unix datagram socket at path
 * ("@name" for the abstract namespace), as a worker hands a connection to
 * another, then writes an HTTP request for /health on its own end.  It
 * prints "served <status line>" if the gateway answered on the passed end,
 * "closed" if that end was closed unserved, "unsent <errno text>" if the
 * datagram could not be sent, or "timeout" after 5 s.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\n"
    "Connection: close\r\n\r\n";

int
main(int argc, char **argv)
{
	struct sockaddr_un	 sun;
	struct msghdr		 msg;
	struct cmsghdr		*cm;
	struct iovec		 iov;
	struct pollfd		 pfd;
	char			 kind, buf[512];
	size_t			 len;
	ssize_t			 n;
	int			 sv[2], fd;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	}			 ctl;

	if (argc != 3 || (len = strlen(argv[1])) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: sendfd path|@abstract kind\n");
		return 2;
	}
	kind = argv[2][0];
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, argv[1], len);
	if (argv[1][0] == '@')
		sun.sun_path[0] = '\0';
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    (fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1) {
		perror("socket");
		return 1;
	}
	memset(&msg, 0, sizeof(msg));
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_name = &sun;
	msg.msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    len + (argv[1][0] == '@' ? 0 : 1));
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
	memcpy(CMSG_DATA(cm), &sv[1], sizeof(int));
	if (sendmsg(fd, &msg, 0) != 1) {
		printf("unsent %s\n", strerror(errno));
		return 0;
	}
	close(sv[1]);
	if (send(sv[0], req, sizeof(req) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(req) - 1) {
		printf("closed\n");
		return 0;
	}
	pfd.fd = sv[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 5000) != 1) {
		printf("timeout\n");
		return 0;
	}
	if ((n = read(sv[0], buf, sizeof(buf) - 1)) <= 0) {
		printf("closed\n");
		return 0;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	printf("served %s\n", buf);
	return 0;
}

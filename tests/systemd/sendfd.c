/*
 * sendfd: a hostile local process for tests/integration/hostile-trust.test.mjs
 * (issue 11.16).
 *
 * sendfd relay path|@abstract sid: connects to a worker's relay socket and
 * writes what a worker would to relay a client's POST of the close packet
 * "1" for session sid, then answers for relayed polls nobody asked for.
 * Prints "closed" if the gateway closed the connection within 3 s, "open"
 * if not, or "unconnected <errno text>".
 *
 * sendfd path|@abstract kind: makes a unix socket pair, passes one end (SCM_RIGHTS)
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
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\n"
    "Connection: close\r\n\r\n";

static socklen_t
address(const char *name, struct sockaddr_un *sun)
{
	size_t	len = strlen(name);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, name, len);
	if (name[0] == '@')
		sun->sun_path[0] = '\0';
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (name[0] == '@' ? 0 : 1));
}

/* relay.c's header: len, id, type, method, status, ctype, pad. */
static size_t
header(uint8_t *p, uint32_t len, uint32_t id, uint8_t type, uint8_t method,
    uint16_t status)
{
	memset(p, 0, 16);
	memcpy(p, &len, 4);
	memcpy(p + 4, &id, 4);
	p[8] = type;
	p[9] = method;
	memcpy(p + 10, &status, 2);
	return 16;
}

static int
relay(const char *name, const char *sid)
{
	struct sockaddr_un	sun;
	struct pollfd		pfd;
	uint8_t			buf[4096];
	size_t			n = 0, slen = strlen(sid);
	uint32_t		id;
	int			fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, address(name, &sun)) != 0) {
		printf("unconnected %s\n", strerror(errno));
		return 0;
	}
	n += header(buf, (uint32_t)(slen + 1), 4242, 1, 2, 0);
	memcpy(buf + n, sid, slen);
	n += slen;
	buf[n++] = '1';
	for (id = 1; id <= 32; id++) {
		n += header(buf + n, 1, id, 2, 0, 200);
		buf[n++] = '6';
	}
	if (send(fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n) {
		printf("closed\n");
		return 0;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, 3000) != 1) {
			printf("open\n");
			return 0;
		}
		if (read(fd, buf, sizeof(buf)) <= 0) {
			printf("closed\n");
			return 0;
		}
	}
}

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

	if (argc == 4 && strcmp(argv[1], "relay") == 0 &&
	    strlen(argv[2]) < sizeof(sun.sun_path))
		return relay(argv[2], argv[3]);
	if (argc != 3 || (len = strlen(argv[1])) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: sendfd path|@abstract kind\n"
		    "       sendfd relay path|@abstract sid\n");
		return 2;
	}
	kind = argv[2][0];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    (fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1) {
		perror("socket");
		return 1;
	}
	memset(&msg, 0, sizeof(msg));
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_name = &sun;
	msg.msg_namelen = address(argv[1], &sun);
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

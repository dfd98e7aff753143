/*
 * test_fdpass.c: fdpass.c and unixsock.c: a descriptor and its kind go
 * over a bound datagram socket with the sender's credentials; extra
 * descriptors are the receiver's to close; run_dir socket paths, and one
 * too long for sun_path; a stream pair's peer credentials; only a child
 * of the master, under our uid, is a sibling.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdpass.h"
#include "unixsock.h"

static void
test_addr(void **state)
{
	struct sockaddr_un	 sun;
	char			 dir[200];
	socklen_t		 len;

	(void)state;
	len = unixsock_addr("/run/sgw", "handoff", 3, &sun);
	assert_string_equal(sun.sun_path, "/run/sgw/handoff-3.sock");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) +
	    strlen("/run/sgw/handoff-3.sock") + 1);
	memset(dir, 'd', sizeof(dir) - 1);
	dir[sizeof(dir) - 1] = '\0';
	assert_int_equal(unixsock_addr(dir, "relay", 1, &sun), 0);
}

/* One descriptor, its kind and our credentials; then one with extras. */
static void
test_pass(void **state)
{
	struct sockaddr_un	 sun;
	struct fdpass_msg	 m;
	struct stat		 a, b;
	char			 dir[] = "/tmp/test_fdpass.XXXXXX";
	socklen_t		 len;
	int			 rx, tx, sv[2];
	size_t			 i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_not_equal(len = unixsock_addr(dir, "handoff", 7, &sun), 0);
	assert_int_not_equal(rx = unixsock_bind(&sun, len, SOCK_DGRAM), -1);
	assert_int_not_equal(tx = socket(AF_UNIX, SOCK_DGRAM, 0), -1);
	assert_int_equal(unixsock_pair(sv), 0);

	assert_int_equal(fdpass_recv(rx, &m), -1);	/* nothing yet */
	assert_int_equal(fdpass_send(tx, &sun, len, 'F', sv[1]), 0);
	assert_int_equal(fdpass_recv(rx, &m), 0);
	assert_int_equal(m.kind, 'F');
	assert_int_equal(m.n, 1);
	assert_int_equal(m.truncated, 0);
	assert_int_equal(m.nfds, 1);
	assert_int_equal(m.has_cred, 1);
	assert_int_equal(m.cred.pid, getpid());
	assert_int_equal(m.cred.uid, geteuid());
	assert_int_equal(fstat(m.fds[0], &a), 0);
	assert_int_equal(fstat(sv[1], &b), 0);
	assert_true(a.st_ino == b.st_ino);
	close(m.fds[0]);

	/*
	 * With our parent as the master, we are a sibling (a child of it) and
	 * the master itself is not; nor is anyone under another uid.
	 */
	unixsock_trust_init();
	assert_true(unixsock_sibling(m.cred.pid, m.cred.uid));
	assert_false(unixsock_sibling(getppid(), geteuid()));
	assert_false(unixsock_sibling(m.cred.pid, geteuid() + 1));
	assert_false(unixsock_sibling(0, geteuid()));

	/* A connected pair's peer is us. */
	{
		struct ucred	uc;

		assert_int_equal(unixsock_peercred(sv[0], &uc), 0);
		assert_int_equal(uc.pid, getpid());
	}

	/* Six descriptors: the first FDPASS_MAX are ours to close. */
	{
		struct msghdr	 msg;
		struct cmsghdr	*cm;
		struct iovec	 iov;
		char		 one = 'P';
		int		 fds[6];
		union {
			struct cmsghdr	 hdr;
			char		 buf[CMSG_SPACE(sizeof(fds))];
		}		 ctl;

		for (i = 0; i < 6; i++)
			fds[i] = sv[1];
		memset(&msg, 0, sizeof(msg));
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_name = &sun;
		msg.msg_namelen = len;
		iov.iov_base = &one;
		iov.iov_len = 1;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(cm), fds, sizeof(fds));
		assert_int_equal(sendmsg(tx, &msg, 0), 1);
	}
	assert_int_equal(fdpass_recv(rx, &m), 0);
	assert_int_equal(m.kind, 'P');
	assert_int_equal(m.nfds, FDPASS_MAX);
	assert_int_equal(m.truncated, 1);
	for (i = 0; i < m.nfds; i++)
		close(m.fds[i]);

	close(sv[0]);
	close(sv[1]);
	close(tx);
	close(rx);
	unlink(sun.sun_path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_pass),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

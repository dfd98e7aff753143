/*
 * Unix sockets between the gateway's own processes (see unixsock.h).  The
 * sockets live in the run_dir the instance has locked and keeps at mode
 * 0700 (master.c), so no other user reaches them; a process of the same
 * user is refused unless it is a child of our master (unixsock_sibling).
 * Every socket is non-blocking and close-on-exec.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "unixsock.h"

static pid_t	 master_pid;	/* our parent when the worker started */

static pid_t	 parent_of(pid_t);

/*
 * A worker's socket: "<dir>/<name>-<n>.sock" ("relay-3.sock",
 * "handoff-3.sock").  The abstract namespace, used before, let any local
 * process connect (issue 11.16).  0 when the path does not fit.
 */
socklen_t
unixsock_addr(const char *dir, const char *name, int n,
    struct sockaddr_un *sun)
{
	int	len;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	len = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s-%d.sock",
	    dir, name, n);
	if (len < 0 || (size_t)len >= sizeof(sun->sun_path))
		return 0;
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    (size_t)len + 1);
}

/*
 * Bind a socket of type SOCK_STREAM (then listening) or SOCK_DGRAM (then
 * every datagram comes with its sender's credentials, SO_PASSCRED) at
 * sun, first removing what a dead worker of the same id left there.
 * The fd, or -1 with errno set.
 */
int
unixsock_bind(const struct sockaddr_un *sun, socklen_t len, int type)
{
	int	fd, one = 1, saved;

	unlink(sun->sun_path);
	if ((fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) ==
	    -1)
		return -1;
	if ((type == SOCK_DGRAM && setsockopt(fd, SOL_SOCKET, SO_PASSCRED,
	    &one, sizeof(one)) != 0) ||
	    bind(fd, (const struct sockaddr *)sun, len) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) != 0)) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* A stream connection to sun; the fd, or -1 with errno set. */
int
unixsock_connect(const struct sockaddr_un *sun, socklen_t len)
{
	int	fd, saved;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)sun, len) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* A connected stream pair, as socketpair(2). */
int
unixsock_pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0, sv);
}

/* The credentials of a connected socket's peer (SO_PEERCRED); 0 when had. */
int
unixsock_peercred(int fd, struct ucred *uc)
{
	socklen_t	len = sizeof(*uc);

	memset(uc, 0, sizeof(*uc));
	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, uc, &len);
}

/* Called as the worker starts, while its parent is surely the master. */
void
unixsock_trust_init(void)
{
	if (master_pid == 0)
		master_pid = getppid();
}

/* The parent of a process, from /proc/<pid>/stat; -1 if unknown. */
static pid_t
parent_of(pid_t pid)
{
	char	 path[64], buf[512], *p;
	ssize_t	 n;
	long	 ppid;
	int	 fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold spaces and ')'. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %ld", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

/*
 * Is the process at the other end of a relay or hand-off socket one of
 * this gateway's workers?  The run_dir's mode keeps other users out, but
 * not other processes of the same user; so the peer must also be a child
 * of our master (every worker is, and no other process can become one).
 * A list of pids from the master would race with a worker just respawned
 * that connects before its siblings have heard of it; the parent does not.
 */
int
unixsock_sibling(pid_t pid, uid_t uid)
{
	return pid > 0 && uid == geteuid() && master_pid > 1 &&
	    parent_of(pid) == master_pid;
}

/*
 * Say that a peer was refused, at most every 10 s (now: the loop's clock,
 * in s): any local process may try, as often as it likes.  The caller
 * counts it.
 */
void
unixsock_refused(const char *what, pid_t pid, uid_t uid, double now)
{
	static double	 last = -100;
	static unsigned	 quiet;

	if (now - last < 10) {
		quiet++;
		return;
	}
	last = now;
	log_warnx("%s: refused pid %ld (uid %ld): not a worker of this "
	    "gateway (%u more refused since the last report)", what,
	    (long)pid, (long)uid, quiet);
	quiet = 0;
}

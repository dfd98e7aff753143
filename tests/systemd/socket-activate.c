/*
 * socket-activate: what systemd does for a .socket unit, for the tests of
 * socket activation (tests/integration/master-activation.test.mjs).
 *
 *	socket-activate [-r] host port command [arg ...]
 *
 * binds a listening TCP socket on host:port (-r: with SO_REUSEPORT, as
 * ReusePort=yes), makes it fd 3, sets LISTEN_FDS=1 and LISTEN_PID to its
 * own pid, and executes command, which keeps that pid.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_in	sin;
	char			pid[32];
	int			fd, on = 1, reuseport = 0;

	if (argc > 1 && strcmp(argv[1], "-r") == 0) {
		reuseport = 1;
		argv++;
		argc--;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: socket-activate [-r] host port "
		    "command [arg ...]\n");
		return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "socket-activate: %s: not an IPv4 address\n",
		    argv[1]);
		return 2;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on,
	    sizeof(on)) != 0) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 128) != 0) {
		perror("socket-activate");
		return 1;
	}
	if (fd != 3 && (dup2(fd, 3) == -1 || close(fd) != 0)) {
		perror("socket-activate: dup2");
		return 1;
	}
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	execvp(argv[3], argv + 3);
	perror(argv[3]);
	return 127;
}

/*
 * notify-sink: a stand-in for systemd's notification socket, for the tests
 * of sd_notify (tests/integration/master-notify.test.mjs).  It binds a unix
 * datagram socket at the path it is given, prints "ready", then prints each
 * datagram on a line of its own (newlines inside become '|') until it is
 * killed or its standard input closes.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_un	sun;
	struct pollfd		pfd[2];
	char			buf[4096];
	ssize_t			n, i;
	int			fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: notify-sink path\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, argv[1]);
	unlink(argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror("notify-sink");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	pfd[0].fd = fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = STDIN_FILENO;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1)
			return 1;
		if (pfd[1].revents != 0 && read(STDIN_FILENO, buf, 1) <= 0)
			return 0;
		if (!(pfd[0].revents & POLLIN))
			continue;
		if ((n = recv(fd, buf, sizeof(buf), 0)) < 0)
			return 1;
		for (i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = '|';
		printf("%.*s\n", (int)n, buf);
		fflush(stdout);
	}
}

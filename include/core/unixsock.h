/*
 * Unix sockets between the processes of one gateway: each worker's relay
 * (stream) and hand-off (datagram) sockets in run_dir, the TLS front's
 * socket pairs, and who may be at the other end of them: only a sibling
 * worker, a child of our own master running as our user (issue 11.16).
 */
#ifndef SGW_UNIXSOCK_H
#define SGW_UNIXSOCK_H

#include <sys/types.h>
#include <sys/socket.h>

struct sockaddr_un;

/* unixsock.c */
socklen_t	 unixsock_addr(const char *, const char *, int,
		    struct sockaddr_un *);
int		 unixsock_bind(const struct sockaddr_un *, socklen_t, int);
int		 unixsock_connect(const struct sockaddr_un *, socklen_t);
int		 unixsock_pair(int [2]);
int		 unixsock_peercred(int, struct ucred *);
void		 unixsock_trust_init(void);
int		 unixsock_sibling(pid_t, uid_t);
void		 unixsock_refused(const char *, pid_t, uid_t, double);

#endif /* SGW_UNIXSOCK_H */

/*
 * redisurl: the Redis address of redis_url / REDIS_URL, pure C (no I/O,
 * no allocation).  Forms:
 *
 *	redis://[[user]:password@]host[:port][/db]
 *	redis://[[user]:password@][ipv6]:port[/db]
 *	unix:///path/to/sock[?db=N][&user=U][&password=P]
 *
 * user and password may be %XX-escaped (a '@', ':' or '/' in a password
 * must be); the port defaults to 6379, the database to 0.  rediss:// is
 * refused: TLS needs hiredis >= 1.0 and Debian 12 has 0.14.1.
 *
 * An error message names the part that is wrong and never quotes the
 * user or the password; redisurl_print() gives the address for logs
 * (host:port/db or the socket path and db), never the credentials.
 */
#ifndef SGW_REDISURL_H
#define SGW_REDISURL_H

#include <stdbool.h>
#include <stddef.h>

#define REDISURL_HOST_MAX	255	/* a DNS name */
#define REDISURL_PATH_MAX	107	/* sun_path less its NUL */
#define REDISURL_CRED_MAX	255	/* user, password */
#define REDISURL_PORT		6379

struct redisurl {
	bool		 unix_path;	/* path, else host and port */
	char		 host[REDISURL_HOST_MAX + 1];	/* no brackets */
	unsigned	 port;
	char		 path[REDISURL_PATH_MAX + 1];
	char		 user[REDISURL_CRED_MAX + 1];	/* "": none */
	char		 password[REDISURL_CRED_MAX + 1];	/* "": none */
	bool		 has_password;
	int		 db;
};

/* redisurl.c */
int		 redisurl_parse(const char *, struct redisurl *, char *,
		     size_t);
void		 redisurl_print(const struct redisurl *, char *, size_t);

#endif /* SGW_REDISURL_H */

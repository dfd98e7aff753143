/*
 * test_redis.c: the Redis client (redis.c) on a real libev loop against a
 * real /usr/bin/redis-server, started here on 127.0.0.1 and a free port
 * (--save "" --appendonly no) and killed at the end of each test.  No
 * redis-server: the tests fail, they do not skip.
 *
 * Each wait runs the loop until its condition holds, with a guard timer
 * (GUARD seconds) that only catches a hang: nothing here measures time.
 * Run under ASan as well: a callback frees its connection.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "log.h"
#include "redis.h"

#define REDIS_SERVER	"/usr/bin/redis-server"
#define GUARD		15.0		/* s: a hang, not a measure */
#define MSG_MAX		16

struct msg {
	char	 kind;
	char	 chan[64];
	char	 data[64];
};

/* What the callbacks saw. */
struct seen {
	int		 ups;
	int		 downs;
	int		 nmsg;
	struct msg	 msg[MSG_MAX];
	int		 replies;	/* non-NULL */
	int		 nulls;
	char		 last[128];	/* last reply as text */
	struct redis	*free_me;	/* freed by the next reply */
};

struct server {
	pid_t	 pid;
	int	 port;
	char	 sock[64];
};

static struct ev_loop	*loop;
static struct server	 srv;	/* killed after each test, failed or not */
static struct redis	*conns[4];	/* freed after each test, likewise */

static void	 drop(struct redis *);

static int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof(sin);
	int			fd, port;

	assert_int_not_equal(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static int
can_connect(int port)
{
	struct sockaddr_in	sin;
	int			fd, rc;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	return rc == 0;
}

/* redis-server on s->port (a new one if 0), and pass (NULL: none). */
static void
server_start(struct server *s, const char *pass)
{
	char	port[16];
	int	i, fd;

	if (access(REDIS_SERVER, X_OK) != 0)
		fail_msg("%s is missing: apt-get install redis-server",
		    REDIS_SERVER);
	if (s->port == 0) {
		s->port = free_port();
		snprintf(s->sock, sizeof(s->sock), "/tmp/sgw-redis-%d.sock",
		    s->port);
	}
	snprintf(port, sizeof(port), "%d", s->port);
	assert_int_not_equal(s->pid = fork(), -1);
	if (s->pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(REDIS_SERVER, REDIS_SERVER, "--port", port, "--bind",
		    "127.0.0.1", "--save", "", "--appendonly", "no",
		    "--unixsocket", s->sock, "--dir", "/tmp",
		    pass != NULL ? "--requirepass" : NULL, pass, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 1000 && !can_connect(s->port); i++)
		usleep(10000);
	if (i == 1000)
		fail_msg("redis-server did not listen on port %d", s->port);
}

static void
server_kill(struct server *s, int sig)
{
	int	status;

	if (s->pid <= 0)
		return;
	kill(s->pid, sig);
	if (sig == SIGKILL || sig == SIGTERM) {
		waitpid(s->pid, &status, 0);
		s->pid = 0;
	}
}

static void
on_guard(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)revents;
	*(int *)w->data = 1;
	ev_break(l, EVBREAK_ONE);
}

/* Run the loop until *v >= want; fails after GUARD seconds. */
static void
wait_for(const int *v, int want, const char *what)
{
	ev_timer	guard;
	int		fired = 0;

	ev_timer_init(&guard, on_guard, GUARD, 0);
	guard.data = &fired;
	ev_timer_start(loop, &guard);
	while (*v < want && !fired)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &guard);
	if (*v < want)
		fail_msg("waited %.0fs for %s: %d of %d", GUARD, what, *v,
		    want);
}

/*
 * Run the loop until r has lost n connections (or connect attempts) and
 * awaits at most pend replies.
 */
static void
wait_stat(struct redis *r, struct redis_stats *st, uint64_t n, uint64_t pend)
{
	ev_timer	guard;
	int		fired = 0;

	ev_timer_init(&guard, on_guard, GUARD, 0);
	guard.data = &fired;
	ev_timer_start(loop, &guard);
	redis_stats(r, st);
	while ((st->disconnects < n || st->pending > pend) && !fired) {
		ev_run(loop, EVRUN_ONCE);
		redis_stats(r, st);
	}
	ev_timer_stop(loop, &guard);
	if (st->disconnects < n || st->pending > pend)
		fail_msg("waited %.0fs for %llu disconnects, %llu pending",
		    GUARD, (unsigned long long)n, (unsigned long long)pend);
}

static void
on_up(void *arg)
{
	((struct seen *)arg)->ups++;
}

static void
on_down(void *arg, const char *why)
{
	(void)why;
	((struct seen *)arg)->downs++;
}

static void
on_message(void *arg, char kind, const char *chan, size_t clen,
    const void *data, size_t len)
{
	struct seen	*s = arg;
	struct msg	*m;

	if (s->nmsg >= MSG_MAX)
		return;
	m = &s->msg[s->nmsg++];
	m->kind = kind;
	snprintf(m->chan, sizeof(m->chan), "%.*s", (int)clen, chan);
	snprintf(m->data, sizeof(m->data), "%.*s", (int)len,
	    (const char *)data);
}

static const struct redis_ops	ops = { on_up, on_down, on_message };

static void
on_reply(void *arg, const struct redisReply *r)
{
	struct seen	*s = arg;

	if (r == NULL) {
		s->nulls++;
		return;
	}
	s->replies++;
	if (r->type == REDIS_REPLY_INTEGER)
		snprintf(s->last, sizeof(s->last), "%lld", r->integer);
	else if (r->type == REDIS_REPLY_NIL)
		snprintf(s->last, sizeof(s->last), "(nil)");
	else if (r->str != NULL)
		snprintf(s->last, sizeof(s->last), "%s%.*s",
		    r->type == REDIS_REPLY_ERROR ? "-" : "",
		    (int)r->len, r->str);
	if (s->free_me != NULL) {
		drop(s->free_me);
		s->free_me = NULL;
	}
}

/* Free r and forget it (teardown frees what a failed test left). */
static void
drop(struct redis *r)
{
	size_t	i;

	for (i = 0; i < 4; i++)
		if (conns[i] == r)
			conns[i] = NULL;
	redis_free(r);
}

/* A command from words; 0 or -1 as redis_command(). */
static int
cmd(struct redis *r, struct seen *s, ...)
{
	const char	*argv[8];
	size_t		 len[8];
	va_list		 ap;
	int		 n = 0;

	va_start(ap, s);
	while (n < 8 && (argv[n] = va_arg(ap, const char *)) != NULL) {
		len[n] = strlen(argv[n]);
		n++;
	}
	va_end(ap);
	return redis_command(r, on_reply, s, n, argv, len);
}

/* Send a command and wait for its reply; returns it as text. */
static const char *
roundtrip(struct redis *r, struct seen *s, const char *a, const char *b,
    const char *c)
{
	int	want = s->replies + 1;

	assert_int_equal(cmd(r, s, a, b, c, (char *)NULL), 0);
	wait_for(&s->replies, want, a);
	return s->last;
}

static struct redis *
connect_to(const char *url, struct seen *s, long long timeout_ms,
    long long queue_max)
{
	struct redis_conf	 conf = { url, timeout_ms, queue_max, "sgw-test" };
	struct redis		*r;

	size_t			 i;

	memset(s, 0, sizeof(*s));
	assert_non_null(r = redis_new(loop, &conf, &ops, s));
	for (i = 0; i < 4 && conns[i] != NULL; i++)
		continue;
	assert_true(i < 4);
	conns[i] = r;
	return r;
}

static void
test_set_get(void **state)
{
	struct seen	 s, u, f;
	struct redis	*r, *x, *y;
	struct redis_stats st;
	char		 url[128];

	(void)state;
	server_start(&srv, NULL);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/3", srv.port);
	r = connect_to(url, &s, 2000, 1 << 20);
	/* Issued before the connection is up: queued, then sent. */
	assert_int_equal(cmd(r, &s, "SET", "k", "v1", (char *)NULL), 0);
	wait_for(&s.replies, 1, "SET");
	assert_string_equal(s.last, "OK");
	assert_string_equal(roundtrip(r, &s, "GET", "k", NULL), "v1");
	assert_string_equal(roundtrip(r, &s, "GET", "none", NULL), "(nil)");
	assert_string_equal(roundtrip(r, &s, "CLIENT", "GETNAME", NULL),
	    "sgw-test");
	assert_non_null(strstr(roundtrip(r, &s, "CLIENT", "INFO", NULL),
	    " db=3 "));
	assert_int_equal(s.ups, 1);
	redis_stats(r, &st);
	assert_true(st.up);
	assert_int_equal(st.connects, 1);
	assert_int_equal(st.replies, 7);	/* with SELECT and SETNAME */
	assert_int_equal(st.pending, 0);

	/* The unix socket, with the db from the query. */
	snprintf(url, sizeof(url), "unix://%s?db=3", srv.sock);
	x = connect_to(url, &u, 2000, 1 << 20);
	assert_string_equal(roundtrip(x, &u, "GET", "k", NULL), "v1");
	drop(x);

	/* Freed from its own callback: the next reply's callback never runs. */
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/3", srv.port);
	y = connect_to(url, &f, 2000, 1 << 20);
	f.free_me = y;
	assert_int_equal(cmd(y, &f, "GET", "k", (char *)NULL), 0);
	assert_int_equal(cmd(y, &f, "GET", "k", (char *)NULL), 0);
	wait_for(&f.replies, 1, "the freeing reply");
	assert_string_equal(roundtrip(r, &s, "PING", NULL, NULL), "PONG");
	assert_int_equal(f.replies, 1);
	assert_int_equal(f.nulls, 0);

	drop(r);
	server_kill(&srv, SIGKILL);
}

static void
test_pubsub(void **state)
{
	struct seen	 s, p;
	struct redis	*sub, *pub;
	struct redis_stats st;
	char		 url[128];

	(void)state;
	server_start(&srv, NULL);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", srv.port);
	sub = connect_to(url, &s, 2000, 1 << 20);
	pub = connect_to(url, &p, 2000, 1 << 20);
	assert_int_equal(redis_subscribe(sub, "SUBSCRIBE", "chan.a", 6), 0);
	assert_int_equal(redis_subscribe(sub, "PSUBSCRIBE", "room.*", 6), 0);
	assert_int_equal(redis_subscribe(sub, "SSUBSCRIBE", "shard.x", 7), 0);
	assert_int_equal(redis_subscribe(sub, "SUBSCRIBE", "chan.a", 6), 0);
	assert_int_equal(redis_subscribe(sub, "MONITOR", "x", 1), -1);
	/* A subscribed connection takes no other command. */
	assert_int_equal(cmd(sub, &s, "GET", "k", (char *)NULL), -1);
	/* up: the subscriptions are confirmed. */
	wait_for(&s.ups, 1, "the subscriber up");

	assert_string_equal(roundtrip(pub, &p, "PUBLISH", "chan.a", "m1"),
	    "1");
	assert_string_equal(roundtrip(pub, &p, "PUBLISH", "room.7", "p1"),
	    "1");
	assert_string_equal(roundtrip(pub, &p, "SPUBLISH", "shard.x", "s1"),
	    "1");
	wait_for(&s.nmsg, 3, "three messages");
	assert_int_equal(s.msg[0].kind, 'm');
	assert_string_equal(s.msg[0].chan, "chan.a");
	assert_string_equal(s.msg[0].data, "m1");
	assert_int_equal(s.msg[1].kind, 'p');
	assert_string_equal(s.msg[1].chan, "room.7");
	assert_string_equal(s.msg[1].data, "p1");
	assert_int_equal(s.msg[2].kind, 's');
	assert_string_equal(s.msg[2].chan, "shard.x");
	assert_string_equal(s.msg[2].data, "s1");

	/* Unsubscribed: PUBLISH reaches nobody, and no message comes. */
	assert_int_equal(redis_unsubscribe(sub, "SUBSCRIBE", "chan.a", 6), 0);
	assert_int_equal(redis_unsubscribe(sub, "SUBSCRIBE", "chan.a", 6), -1);
	wait_stat(sub, &st, 0, 0);	/* the confirmation came */
	assert_string_equal(roundtrip(pub, &p, "PUBLISH", "chan.a", "m2"),
	    "0");
	assert_string_equal(roundtrip(pub, &p, "PUBLISH", "room.8", "p2"),
	    "1");
	wait_for(&s.nmsg, 4, "the fourth message");
	assert_string_equal(s.msg[3].chan, "room.8");
	assert_int_equal(s.downs, 0);

	drop(sub);
	drop(pub);
	server_kill(&srv, SIGKILL);
}

static void
test_timeout(void **state)
{
	struct seen	 s;
	struct redis	*r;
	struct redis_stats st;
	char		 url[128];

	(void)state;
	server_start(&srv, NULL);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", srv.port);
	r = connect_to(url, &s, 300, 1 << 20);
	assert_string_equal(roundtrip(r, &s, "PING", NULL, NULL), "PONG");

	server_kill(&srv, SIGSTOP);
	assert_int_equal(cmd(r, &s, "GET", "k", (char *)NULL), 0);
	assert_int_equal(cmd(r, &s, "GET", "k", (char *)NULL), 0);
	wait_for(&s.nulls, 2, "NULL after the deadline");
	assert_int_equal(s.nulls, 2);
	assert_int_equal(s.downs, 1);
	redis_stats(r, &st);
	assert_true(st.timeouts >= 1);
	assert_false(st.up);
	assert_int_equal(st.pending, 0);

	server_kill(&srv, SIGCONT);
	wait_for(&s.ups, 2, "up again after SIGCONT");
	assert_string_equal(roundtrip(r, &s, "PING", NULL, NULL), "PONG");
	assert_int_equal(s.nulls, 2);

	drop(r);
	server_kill(&srv, SIGKILL);
}

/*
 * A subscriber awaits no reply, so only its idle PING can notice that
 * Redis stopped answering: it goes down within about twice the timeout,
 * and comes back with its subscription after SIGCONT.
 */
static void
test_idle_subscriber(void **state)
{
	struct seen	 s, p;
	struct redis	*sub, *pub;
	struct redis_stats st;
	char		 url[128];

	(void)state;
	server_start(&srv, NULL);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", srv.port);
	sub = connect_to(url, &s, 300, 1 << 20);
	pub = connect_to(url, &p, 2000, 1 << 20);
	assert_int_equal(redis_subscribe(sub, "SUBSCRIBE", "chan.i", 6), 0);
	wait_for(&s.ups, 1, "the subscriber up");

	server_kill(&srv, SIGSTOP);
	wait_for(&s.downs, 1, "the idle subscriber down");
	redis_stats(sub, &st);
	assert_true(st.timeouts >= 1);
	assert_false(st.up);

	server_kill(&srv, SIGCONT);
	wait_for(&s.ups, 2, "the subscriber up again");
	assert_string_equal(roundtrip(pub, &p, "PUBLISH", "chan.i", "after"),
	    "1");
	wait_for(&s.nmsg, 1, "the message after SIGCONT");

	drop(sub);
	drop(pub);
	server_kill(&srv, SIGKILL);
}

/*
 * The loop busy past the reply deadline, with the reply in the socket:
 * libev runs the due timer before the readable watcher, and that was
 * taken for a Redis that stopped answering (a connect storm cost a
 * subscriber its connection and the messages in flight).  The reply is
 * read, nothing is lost.
 */
static void
test_busy_loop(void **state)
{
	struct seen	 s;
	struct redis	*r;
	struct redis_stats st;
	char		 url[128];

	(void)state;
	server_start(&srv, NULL);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", srv.port);
	r = connect_to(url, &s, 200, 1 << 20);
	wait_for(&s.ups, 1, "up");
	assert_int_equal(cmd(r, &s, "SET", "busy", "yes", (char *)NULL), 0);
	redis_stats(r, &st);
	while (st.commands == 0 || st.bytes_out == 0 || st.queued > 0) {
		ev_run(loop, EVRUN_NOWAIT);
		redis_stats(r, &st);
	}
	usleep(600000);		/* a loop busy for three deadlines */
	wait_for(&s.replies, 1, "the reply");
	assert_string_equal(s.last, "OK");
	redis_stats(r, &st);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(st.disconnects, 0);
	assert_true(st.up);
	drop(r);
	server_kill(&srv, SIGKILL);
}

static void
test_restart(void **state)
{
	struct seen	 s, p;
	struct redis	*sub, *pub;
	struct redis_stats st;
	char		 url[128], key[16];
	int		 i, queued = 0, refused = 0, lost;

	(void)state;
	server_start(&srv, NULL);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", srv.port);
	sub = connect_to(url, &s, 2000, 1 << 20);
	pub = connect_to(url, &p, 2000, 200);
	assert_int_equal(redis_subscribe(sub, "SUBSCRIBE", "chan.r", 6), 0);
	assert_int_equal(redis_subscribe(sub, "SSUBSCRIBE", "shard.r", 7), 0);
	wait_for(&s.ups, 1, "the subscriber up");
	assert_string_equal(roundtrip(pub, &p, "PUBLISH", "chan.r", "before"),
	    "1");
	wait_for(&s.nmsg, 1, "the message before");

	server_kill(&srv, SIGKILL);
	wait_for(&s.downs, 1, "the subscriber down");
	wait_for(&p.downs, 1, "the publisher down");
	assert_false(redis_up(pub));

	/* 200 bytes: a few SETs wait, the rest are refused and counted. */
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "q%d", i);
		if (cmd(pub, &p, "SET", key, "queued", (char *)NULL) == 0)
			queued++;
		else
			refused++;
	}
	assert_true(queued >= 2);
	assert_true(refused >= 1);
	redis_stats(pub, &st);
	assert_int_equal(st.lost, (uint64_t)refused);
	assert_true(st.queued > 0 && st.queued <= 200);
	lost = refused;
	/* A failed attempt to reconnect keeps them. */
	wait_stat(pub, &st, st.disconnects + 1, 1000);

	server_start(&srv, NULL);
	wait_for(&p.replies, 1 + queued, "the queued SETs answered");
	wait_for(&p.ups, 2, "the publisher up again");
	wait_for(&s.ups, 2, "the subscriber up again");
	assert_string_equal(roundtrip(pub, &p, "GET", "q0", NULL), "queued");
	snprintf(key, sizeof(key), "q%d", queued - 1);
	assert_string_equal(roundtrip(pub, &p, "GET", key, NULL), "queued");
	snprintf(key, sizeof(key), "q%d", queued);
	assert_string_equal(roundtrip(pub, &p, "GET", key, NULL), "(nil)");

	/* The subscriptions were re-issued. */
	assert_string_equal(roundtrip(pub, &p, "PUBLISH", "chan.r", "after"),
	    "1");
	assert_string_equal(roundtrip(pub, &p, "SPUBLISH", "shard.r", "s"),
	    "1");
	wait_for(&s.nmsg, 3, "the messages after the restart");
	assert_string_equal(s.msg[1].data, "after");
	assert_int_equal(s.msg[2].kind, 's');
	redis_stats(pub, &st);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.queued, 0);

	/*
	 * Up, the same 200 bytes bound what one loop iteration leaves for
	 * the socket: the excess is refused and counted, the rest answered.
	 */
	queued = refused = 0;
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "u%d", i);
		if (cmd(pub, &p, "SET", key, "burst", (char *)NULL) == 0)
			queued++;
		else
			refused++;
	}
	assert_true(queued >= 2);
	assert_true(refused >= 1);
	redis_stats(pub, &st);
	assert_int_equal(st.lost, (uint64_t)(refused + lost));
	i = p.replies;
	wait_for(&p.replies, i + queued, "the burst answered");
	assert_int_equal(p.nulls, 0);

	drop(sub);
	drop(pub);
	server_kill(&srv, SIGKILL);
}

static void
test_auth(void **state)
{
	struct seen	 s, w;
	struct redis	*good, *bad;
	struct redis_stats st;
	char		 url[128];

	(void)state;
	server_start(&srv, "s3cret");
	snprintf(url, sizeof(url), "redis://default:s3cret@127.0.0.1:%d",
	    srv.port);
	good = connect_to(url, &s, 2000, 1 << 20);
	assert_string_equal(roundtrip(good, &s, "SET", "a", "1"), "OK");

	/* A wrong password: refused, retried, the command keeps waiting. */
	snprintf(url, sizeof(url), "redis://:wrong@127.0.0.1:%d", srv.port);
	bad = connect_to(url, &w, 2000, 1 << 20);
	assert_int_equal(cmd(bad, &w, "GET", "a", (char *)NULL), 0);
	wait_stat(bad, &st, 2, 1000);
	assert_false(st.up);
	assert_int_equal(st.connects, 0);
	assert_int_equal(w.replies + w.nulls, 0);

	/* The server's password becomes "wrong": the next retry gets in. */
	assert_int_equal(cmd(good, &s, "CONFIG", "SET", "requirepass",
	    "wrong", (char *)NULL), 0);
	wait_for(&w.ups, 1, "the retried AUTH");
	wait_for(&w.replies, 1, "the waiting GET");
	assert_string_equal(w.last, "1");

	drop(bad);
	drop(good);
	server_kill(&srv, SIGKILL);
}

static int
setup(void **state)
{
	(void)state;
	memset(&srv, 0, sizeof(srv));
	return 0;
}

static int
teardown(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < 4; i++)
		if (conns[i] != NULL)
			drop(conns[i]);
	if (srv.pid > 0) {
		kill(srv.pid, SIGCONT);
		server_kill(&srv, SIGKILL);
	}
	if (srv.sock[0] != '\0')
		unlink(srv.sock);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test_setup_teardown(test_set_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pubsub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_subscriber, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_busy_loop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	log_init(LOG_LEVEL_WARN);
	loop = ev_default_loop(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_proc: guards the process table (src/process/proc.c).  A spawned
 * worker takes a free entry and is counted by generation and readiness;
 * the child runs with its own slot's sockets and channel open and every
 * other slot's sockets and every other worker's channel closed; reaping
 * frees the entry and reports the slot, generation, drain state and a
 * WORKER_EXIT_FATAL exit; and the respawn delay grows from nothing to
 * 30 s while a worker keeps dying young, and falls back once it lived.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <ev.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc.h"
#include "proc.h"
#include "worker.h"

static struct proc_table	 table;
static int			 marker;	/* the table's arg */

static void	 on_chan(struct ipc *, int, const void *, size_t, void *);
static void	 on_respawn(struct ev_loop *, ev_timer *, int);
static struct ev_loop *setup(void);
static pid_t	 reap(pid_t, struct proc_exit *);
static int	 child_exit(void *, int, unsigned, int, void *);
static int	 child_wait(void *, int, unsigned, int, void *);
static int	 child_check(void *, int, unsigned, int, void *);

static void
on_chan(struct ipc *c, int type, const void *data, size_t len, void *arg)
{
	(void)c;
	(void)type;
	(void)data;
	(void)len;
	(void)arg;
}

static void
on_respawn(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

/* A fresh table on a new loop. */
static struct ev_loop *
setup(void)
{
	struct ev_loop	*loop;

	memset(&table, 0, sizeof(table));
	loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(loop);
	proc_init(&table, loop, on_chan, on_respawn, &marker);
	return loop;
}

/* Wait for pid and reap it from the table. */
static pid_t
reap(pid_t pid, struct proc_exit *e)
{
	int	status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(proc_reap(&table, pid, status, e), 0);
	return pid;
}

static int
child_exit(void *arg, int slot, unsigned gen, int chan, void *data)
{
	(void)arg;
	(void)slot;
	(void)gen;
	(void)chan;
	return *(int *)data;
}

static int
child_wait(void *arg, int slot, unsigned gen, int chan, void *data)
{
	(void)arg;
	(void)slot;
	(void)gen;
	(void)chan;
	(void)data;
	for (;;)
		pause();
	return 0;
}

/* fds[0]: another slot's socket; fds[1]: our own; fds[2]: a channel. */
static int
child_check(void *arg, int slot, unsigned gen, int chan, void *data)
{
	const int	*fds = data;

	if (arg != &marker || slot != 1 || gen != 7)
		return 10;
	if (fcntl(fds[0], F_GETFD) != -1)
		return 11;
	if (fcntl(fds[1], F_GETFD) == -1)
		return 12;
	if (fcntl(fds[2], F_GETFD) != -1)
		return 13;
	if (fcntl(chan, F_GETFD) == -1)
		return 14;
	return 0;
}

static void
test_spawn_count_reap(void **state)
{
	struct ev_loop		*loop = setup();
	struct proc_exit	 e;
	pid_t			 a, b;
	int			 code = 0;

	(void)state;
	assert_int_equal(proc_count(&table, 0, 0), 0);
	a = proc_spawn(&table, 0, 1, child_exit, &code);
	b = proc_spawn(&table, 1, 2, child_exit, &code);
	assert_true(a > 0 && b > 0);
	assert_int_equal(proc_count(&table, 0, 0), 2);
	assert_int_equal(proc_count(&table, 1, 0), 1);
	assert_int_equal(proc_count(&table, 2, 0), 1);
	assert_int_equal(proc_count(&table, 3, 0), 0);
	assert_int_equal(proc_count(&table, 0, 1), 0);
	table.procs[1].ready = 1;
	assert_int_equal(proc_count(&table, 0, 1), 1);
	table.procs[0].exiting = 1;

	reap(a, &e);
	assert_int_equal(e.slot, 0);
	assert_int_equal(e.generation, 1);
	assert_int_equal(e.exiting, 1);
	assert_int_equal(e.fatal, 0);
	assert_true(e.age >= 0);
	assert_int_equal(proc_count(&table, 0, 0), 1);
	assert_int_equal(table.procs[0].pid, 0);
	assert_int_equal(table.procs[0].chan.io.fd, -1);
	reap(b, &e);
	assert_int_equal(e.slot, 1);
	assert_int_equal(e.generation, 2);
	assert_int_equal(e.exiting, 0);
	assert_int_equal(proc_count(&table, 0, 0), 0);
	/* Not a worker (any more). */
	assert_int_equal(proc_reap(&table, b, 0, &e), -1);
	ev_loop_destroy(loop);
}

static void
test_fatal_and_signal(void **state)
{
	struct ev_loop		*loop = setup();
	struct proc_exit	 e;
	pid_t			 pid;
	int			 code = WORKER_EXIT_FATAL;

	(void)state;
	pid = proc_spawn(&table, 0, 1, child_exit, &code);
	assert_true(pid > 0);
	reap(pid, &e);
	assert_int_equal(e.fatal, 1);

	code = 1;
	pid = proc_spawn(&table, 0, 1, child_exit, &code);
	reap(pid, &e);
	assert_int_equal(e.fatal, 0);

	pid = proc_spawn(&table, 0, 1, child_wait, NULL);
	assert_true(pid > 0);
	kill(pid, SIGKILL);
	reap(pid, &e);
	assert_int_equal(e.fatal, 0);
	assert_int_equal(proc_count(&table, 0, 0), 0);
	ev_loop_destroy(loop);
}

/* The child keeps its own slot's sockets and channel, and nothing else. */
static void
test_child_closes_others(void **state)
{
	struct ev_loop		*loop = setup();
	struct proc_exit	 e;
	int			 p0[2], p1[2], fds[3], status;
	pid_t			 waiter, pid;

	(void)state;
	assert_int_equal(pipe(p0), 0);
	assert_int_equal(pipe(p1), 0);
	table.nslots = 2;
	table.nlisten = 1;
	table.slots[0].fds[0] = p0[0];
	table.slots[1].fds[0] = p1[0];
	waiter = proc_spawn(&table, 0, 6, child_wait, NULL);
	assert_true(waiter > 0);
	fds[0] = p0[0];
	fds[1] = p1[0];
	fds[2] = table.procs[0].chan.io.fd;
	assert_true(fds[2] >= 0);
	pid = proc_spawn(&table, 1, 7, child_check, fds);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(proc_reap(&table, pid, status, &e), 0);
	kill(waiter, SIGKILL);
	reap(waiter, &e);
	assert_int_equal(e.generation, 6);
	close(p0[0]);
	close(p0[1]);
	close(p1[0]);
	close(p1[1]);
	ev_loop_destroy(loop);
}

/* Respawn at once, then 0.2 s doubling up to 30 s; a long life resets. */
static void
test_backoff(void **state)
{
	static const double	 want[] = { 0, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4,
				    12.8, 25.6, 30, 30 };
	struct ev_loop		*loop = setup();
	ev_timer		*w = &table.slots[3].respawn;
	double			 r;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		proc_respawn(&table, 3, 0.5);
		assert_int_equal(table.slots[3].crashes, i + 1);
		assert_true(ev_is_active(w));
		r = ev_timer_remaining(loop, w);
		assert_true(r > want[i] - 1e-6 && r < want[i] + 1e-6);
	}
	for (i = 0; i < 40; i++)
		proc_respawn(&table, 3, 0.5);
	r = ev_timer_remaining(loop, w);
	assert_true(r > 30 - 1e-6 && r < 30 + 1e-6);
	proc_respawn(&table, 3, 5.0);
	assert_int_equal(table.slots[3].crashes, 0);
	assert_true(ev_timer_remaining(loop, w) < 1e-6);
	assert_false(ev_is_active(&table.slots[2].respawn));
	ev_timer_stop(loop, w);
	ev_loop_destroy(loop);
}

/*
 * A send to a peer that is gone fails, and the owner hears of it from the
 * loop (type -1), as for a read: a worker whose READY met a dead master
 * used to lose its channel unheard and serve on, an orphan.
 */
static int	 ipc_closed;

static void
on_ipc(struct ipc *c, int type, const void *data, size_t len, void *arg)
{
	(void)c;
	(void)data;
	(void)len;
	(void)arg;
	if (type == -1)
		ipc_closed++;
}

static void
test_send_to_gone_peer(void **state)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct ipc	 c;
	int		 sv[2], i;

	(void)state;
	signal(SIGPIPE, SIG_IGN);	/* as in the master and the workers */
	assert_non_null(loop);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	close(sv[0]);
	ipc_closed = 0;
	ipc_init(&c, loop, sv[1], on_ipc, NULL);
	assert_int_equal(ipc_send(&c, IPC_READY, NULL, 0), -1);
	for (i = 0; i < 100 && ipc_closed == 0; i++)
		ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(ipc_closed, 1);
	assert_int_equal(c.io.fd, -1);
	ev_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spawn_count_reap),
		cmocka_unit_test(test_fatal_and_signal),
		cmocka_unit_test(test_child_closes_others),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_send_to_gone_peer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

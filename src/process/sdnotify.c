/*
 * sd_notify(3) for the master.  RELOADING=1 carries MONOTONIC_USEC, as
 * Type=notify-reload requires; the watchdog pings at half of WatchdogSec.
 */
#include <ev.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "bw.h"
#include "sdnotify.h"

static void	notify(const char *);
static void	on_watchdog(struct ev_loop *, ev_timer *, int);

static ev_timer	watchdog;

static void
notify(const char *state)
{
#ifdef HAVE_SYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

void
sdnotify_ready(void)
{
	notify("READY=1");
}

void
sdnotify_reloading(void)
{
	struct timespec	ts;
	char		buf[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	notify(buf);
}

void
sdnotify_stopping(void)
{
	notify("STOPPING=1");
}

void
sdnotify_status(const char *fmt, ...)
{
	char		buf[256];
	struct bw	w;
	va_list		ap;

	bw_init(&w, buf, sizeof(buf));
	bw_puts(&w, "STATUS=");
	va_start(ap, fmt);
	bw_vprintf(&w, fmt, ap);
	va_end(ap);
	bw_finish(&w);
	notify(buf);
}

static void
on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	notify("WATCHDOG=1");
}

/* Ping at half the interval systemd asked for, if it asked. */
void
sdnotify_watchdog_start(struct ev_loop *loop)
{
#ifdef HAVE_SYSTEMD
	uint64_t	usec;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return;
	ev_timer_init(&watchdog, on_watchdog, 0, (double)usec / 2e6);
	ev_timer_start(loop, &watchdog);
#else
	(void)loop;
	(void)on_watchdog;
	(void)watchdog;
#endif
}

/*
 * systemd notification (Type=notify): READY, RELOADING, STOPPING, STATUS
 * and the watchdog.  Without libsystemd, or outside systemd, these do
 * nothing.
 */
#ifndef SGW_SDNOTIFY_H
#define SGW_SDNOTIFY_H

struct ev_loop;

/* sdnotify.c */
void	sdnotify_ready(void);
void	sdnotify_reloading(void);
void	sdnotify_stopping(void);
void	sdnotify_status(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	sdnotify_watchdog_start(struct ev_loop *);

#endif /* SGW_SDNOTIFY_H */

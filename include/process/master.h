/*
 * The master process: binds the listeners, forks and respawns the workers,
 * reloads on SIGHUP, drains on SIGTERM.  It never handles client traffic.
 */
#ifndef SGW_MASTER_H
#define SGW_MASTER_H

struct cli_opts;
struct conf;

/* master.c */
int	master_main(const struct cli_opts *, struct conf *);

#endif /* SGW_MASTER_H */

/*
 * bus_nng15: what the bus (bus.c) does only because of nng 1.5.2 bugs,
 * kept apart so that it can go once nng 1.6 is the minimum (see
 * bus_nng15.c for each bug and how far 1.6 fixes it).  Only bus.c uses it.
 */
#ifndef SGW_BUS_NNG15_H
#define SGW_BUS_NNG15_H

#include <sys/queue.h>

#include <stdint.h>

#include <ev.h>
#include <nng/nng.h>

#define BUS_NNG15_WATCHDOG 3.	/* s: a peer we reach must reach us */

struct bus_nng15_grave {	/* a push socket closed when settled */
	nng_socket			 sock;
	ev_tstamp			 buried;
	TAILQ_ENTRY(bus_nng15_grave)	 entry;
};
TAILQ_HEAD(bus_nng15_graves, bus_nng15_grave);

/* The workarounds' state, one per bus. */
struct bus_nng15 {
	struct ev_loop		*loop;
	const char		*path;		/* our listener's file */
	int			 wid;
	struct bus_nng15_graves	 graves;
	nng_socket		 canary;	/* open while testing */
	ev_tstamp		 canary_at;
	ev_tstamp		 calm_until;
	uint32_t		 canary_chan;
	int			 canary_ok;
};

/* bus_nng15.c */
void		 bus_nng15_init(struct bus_nng15 *, struct ev_loop *,
		     const char *, int);
void		 bus_nng15_bury(struct bus_nng15 *, nng_socket);
void		 bus_nng15_graves_close(struct bus_nng15 *, int);
int		 bus_nng15_watch(struct bus_nng15 *, int, uint32_t *);
int		 bus_nng15_canary_seen(struct bus_nng15 *, uint32_t);
void		 bus_nng15_free(struct bus_nng15 *);

#endif /* SGW_BUS_NNG15_H */

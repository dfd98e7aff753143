/*
 * recremote.h: what recremote.c (the host a client comes back to: its
 * ask, the cut, the answer applied) and recanswer.c (the host that held
 * the session: the answer) share; nothing else includes it.  gateway.h
 * has the functions the rest of the gateway calls.
 */
#ifndef SGW_RECREMOTE_H
#define SGW_RECREMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "recwire.h"

#define RR_CHAN_MAX	256

struct rr_pend;
struct reclog_ent;

/* Frames copied out of the log, bounded. */
struct rr_frames {
	size_t		 max;		/* frames */
	size_t		 bytes;		/* held, at most RECWIRE_MAX */
	size_t		 n, cap;
	char		**f;
	size_t		*flen;
	int		 over;		/* past a bound, or no memory */
};

struct gw_recremote {
	struct rr_pend	*first;		/* CONNECTs waiting for an answer */
	size_t		 n;
	struct rr_pend	*current;	/* being answered (recremote_accepting) */
	uint64_t	 next_id;
	void		(*resume)(struct gateway *, struct session *,
			    unsigned, struct auth_result *);
	char		 ask_chan[RR_CHAN_MAX];	/* "<key>-gw#rec" */
	char		 ans_chan[RR_CHAN_MAX];	/* "<key>-gw#rec#<uid>" */
	size_t		 ask_len, ans_len;
	int32_t		 peers[GW_SYNC_MAX];	/* live wids (gw_peers) */
	size_t		 npeers;
	uint64_t	 init_ms;	/* this worker's start, reclog ms */
	uint64_t	 asked;		/* asks published */
	uint64_t	 answered;	/* asks of other hosts answered here */
	uint64_t	 refused;	/* past recovery_remote_pending (then
					   recovery.c counts it gone) */
	uint64_t	 malformed;	/* asks or answers that did not decode */
	uint64_t	 timeouts;	/* no answer in time (logged 1, 2, 4...) */
};

/* recanswer.c */
int	 rr_publish(struct gateway *, const char *, size_t, const char *,
	    size_t);
void	 recanswer_ask(struct gateway *, const struct recwire_ask *);
int	 rr_keep(struct rr_frames *, const struct reclog_ent *);
void	 rr_frames_free(struct rr_frames *);

#endif /* SGW_RECREMOTE_H */

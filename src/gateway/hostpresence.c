/*
 * hostpresence: presence across hosts through Redis (issue 14), when
 * redis_url is set.  online.c keeps presence across the workers of this
 * instance (the nng bus); this file makes the instance's transitions the
 * cluster's, and tells this worker's sockets what the cluster does.
 *
 * In Redis (plain keys, standalone Redis; key = redis_key_prefix):
 *   online_users		hash: user -> instances where it has a socket
 *				(the seed README's hgetall('online_users'))
 *   <key>-gw#users#<inst>	hash: user -> 1, the instance's users
 *   <key>-gw#node#<inst>	the instance's heartbeat, SET PX
 *				redis_node_ttl, refreshed every ttl/3
 *   <key>-gw#nodes		set of the instances
 *   <key>-gw#presence	channel: "+<user>", "-<user>"
 * Each transition is one EVAL, atomic: ONLINE adds users to the instance's
 * hash (HSETNX) and counts them in online_users, OFFLINE takes them out,
 * and either PUBLISHes the users whose count went 0 -> 1 or 1 -> 0 and
 * returns them.  The PUBLISH is in the script so that a worker dying
 * between the script and its answer loses no event.  HEARTBEAT refreshes
 * the instance's key, and sweeps: an instance of the set whose key is gone
 * has its users taken out (HRANDFIELD, SWEEP_BATCH at a time), the ones
 * gone cluster-wide published and returned; atomic, so one sweeper only
 * gets them.  It also says whether our own key was there: if not, Redis
 * lost its data (a restart without persistence) or another instance took
 * us for dead; either way the instance resyncs: its users are registered
 * again and the users of its hash it does not have are taken out (so
 * too after failed presence commands, and when the first worker's
 * command connection comes back: resync()).
 *
 * Who calls: an instance-level transition (online.c's table says a user's
 * first socket in this instance opened or its last closed) is sent by the
 * user's owner (online_owner()) alone; the heartbeat and the sweep by the
 * first worker of the master's list (authsvc_owner(g, 0)).  The worker that
 * gets a script's answer makes the calls to the auth service (status) and
 * the presence engine for the users it names: once per cluster-wide
 * transition.  (After Redis lost its data, the re-registration is a
 * transition as Redis sees it: the services hear "online" again for users
 * who never left; their status is a state, told again.)
 *
 * Every worker of every instance subscribes to the channel; it keeps the
 * mirror, the set of users online cluster-wide as the channel says (not
 * the other instances' users alone: an event does not say where the user
 * is, and a user online here and elsewhere changes nothing on the channel
 * when it leaves here; the union with this instance's table is the same), and
 * tells its sockets of a change of the mirror only: an event repeated (a
 * re-registration) is not told twice.  A new socket's online_users is this
 * instance's table and the mirror.  The mirror holds one entry per user
 * online cluster-wide, no more: it is bounded by the cluster's users, as
 * the presence table is by the instance's.  It is rebuilt from HGETALL
 * online_users when the subscriber connection comes back (events were
 * missed): at once, adding only (the other instances may not have
 * registered again yet after a Redis restart), and after redis_node_ttl,
 * by when every live instance has, adding and removing.
 */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "frame.h"
#include "gateway.h"
#include "htab.h"
#include "log.h"
#include "presence.h"
#include "reclog.h"
#include "redis.h"
#include "roomname.h"
#include "session.h"
#include "stats.h"
#include "transport.h"

#define SWEEP_BATCH	512	/* users a sweep takes out at once */
#define REGISTER_BATCH	256	/* users per re-registration EVAL */
#define TRIES		3	/* sends of a transition, lost answers */
#define KEY_MAX		(sizeof(((struct gateway *)0)->redis_instance) + 256)

/* Lua: KEYS[1] the instance's hash, KEYS[2] online_users; ARGV[1] channel. */
static const char ONLINE[] =
    "local up = {}\n"
    "for i = 2, #ARGV do\n"
    "  local u = ARGV[i]\n"
    "  if redis.call('HSETNX', KEYS[1], u, 1) == 1 and\n"
    "      redis.call('HINCRBY', KEYS[2], u, 1) == 1 then\n"
    "    redis.call('PUBLISH', ARGV[1], '+' .. u)\n"
    "    up[#up + 1] = u\n"
    "  end\n"
    "end\n"
    "return up\n";

static const char OFFLINE[] =
    "local down = {}\n"
    "for i = 2, #ARGV do\n"
    "  local u = ARGV[i]\n"
    "  if redis.call('HDEL', KEYS[1], u) == 1 and\n"
    "      redis.call('HINCRBY', KEYS[2], u, -1) <= 0 then\n"
    "    redis.call('HDEL', KEYS[2], u)\n"
    "    redis.call('PUBLISH', ARGV[1], '-' .. u)\n"
    "    down[#down + 1] = u\n"
    "  end\n"
    "end\n"
    "return down\n";

/*
 * KEYS[1] our heartbeat, KEYS[2] the set of instances, KEYS[3]
 * online_users; ARGV: our instance, ttl ms, channel, "<key>-gw#", batch.
 * Returns {our key was there, instances swept (users taken out: one that
 * left none, a drained one, is removed unsaid), more to sweep, {gone}}.
 */
static const char HEARTBEAT[] =
    "local was = redis.call('SET', KEYS[1], '1', 'PX', ARGV[2], 'GET')\n"
    "redis.call('SADD', KEYS[2], ARGV[1])\n"
    "local gone, dead, more = {}, 0, 0\n"
    "local budget = tonumber(ARGV[5])\n"
    "for _, n in ipairs(redis.call('SMEMBERS', KEYS[2])) do\n"
    "  if redis.call('EXISTS', ARGV[4] .. 'node#' .. n) == 0 then\n"
    "    local h = ARGV[4] .. 'users#' .. n\n"
    "    local us = {}\n"
    "    if budget > 0 then\n"
    "      us = redis.call('HRANDFIELD', h, budget)\n"
    "      for _, u in ipairs(us) do\n"
    "        redis.call('HDEL', h, u)\n"
    "        if redis.call('HINCRBY', KEYS[3], u, -1) <= 0 then\n"
    "          redis.call('HDEL', KEYS[3], u)\n"
    "          redis.call('PUBLISH', ARGV[3], '-' .. u)\n"
    "          gone[#gone + 1] = u\n"
    "        end\n"
    "      end\n"
    "      budget = budget - #us\n"
    "    end\n"
    "    if redis.call('EXISTS', h) == 0 then\n"
    "      redis.call('SREM', KEYS[2], n)\n"
    "      if #us > 0 then dead = dead + 1 end\n"
    "    else\n"
    "      more = 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return {was and 1 or 0, dead, more, gone}\n";

/* A user of the mirror. */
struct muser {
	uint32_t	 hash;		/* first: htab */
	int		 seen;		/* in the HGETALL being applied */
	size_t		 len;
	char		 name[];
};

struct hostpres {
	struct gateway	*g;
	struct htab	 mirror;	/* of struct muser */
	ev_timer	 beat;		/* every redis_node_ttl / 3 */
	ev_timer	 rebuild;	/* the full rebuild, ttl after */
	uint64_t	 sub_connects;	/* the subscriber's, last seen */
	uint64_t	 cmd_connects;	/* the command connection's */
	uint64_t	 errors_seen;	/* errors at the last resync */
	int		 beating;	/* a HEARTBEAT awaits its answer */
	int		 fetching;	/* an HGETALL awaits its answer */
	uint64_t	 beats;		/* heartbeats answered */
	uint64_t	 errors;	/* redis_presence_errors */
	uint64_t	 expired;	/* redis_nodes_expired */
	char		 chan[KEY_MAX];	/* "<key>-gw#presence" */
	char		 users[KEY_MAX];	/* "<key>-gw#users#<inst>" */
	char		 node[KEY_MAX];	/* "<key>-gw#node#<inst>" */
	char		 nodes[KEY_MAX];	/* "<key>-gw#nodes" */
	char		 base[KEY_MAX];	/* "<key>-gw#" */
};

/* An EVAL of ONLINE or OFFLINE on its way, with its users. */
struct batch {
	struct gateway	*g;
	int		 online;
	int		 recheck;	/* a resync's: see recheck() */
	int		 tries;
	size_t		 n;
	char		*users[];
};

struct ukey {
	const char	*s;
	size_t		 len;
};

static void	 on_beat(struct ev_loop *, ev_timer *, int);
static void	 on_rebuild(struct ev_loop *, ev_timer *, int);
static void	 fetch(struct hostpres *, int);
static int	 batch_send(struct batch *);
static void	 hostpres_message(struct gateway *, char, const char *,
		    size_t, const void *, size_t);

static int
keys(struct hostpres *hp, const struct gateway *g)
{
	const char	*k = g->conf->redis_key_prefix;
	const char	*i = g->redis_instance;
	int		 a, b, c, d, e;

	a = snprintf(hp->chan, KEY_MAX, "%s-gw#presence", k);
	b = snprintf(hp->users, KEY_MAX, "%s-gw#users#%s", k, i);
	c = snprintf(hp->node, KEY_MAX, "%s-gw#node#%s", k, i);
	d = snprintf(hp->nodes, KEY_MAX, "%s-gw#nodes", k);
	e = snprintf(hp->base, KEY_MAX, "%s-gw#", k);
	return a < 0 || b < 0 || c < 0 || d < 0 || e < 0 ||
	    (size_t)a >= KEY_MAX || (size_t)b >= KEY_MAX ||
	    (size_t)c >= KEY_MAX || (size_t)d >= KEY_MAX ||
	    (size_t)e >= KEY_MAX ? -1 : 0;
}

/* Nothing without redis_url; else the mirror, the channel, the timers. */
int
hostpres_init(struct gateway *g, uint64_t seed)
{
	struct hostpres	*hp;
	double		 period;

	if (g->redis == NULL)
		return 0;
	if ((hp = calloc(1, sizeof(*hp))) == NULL)
		return -1;
	hp->g = g;
	if (keys(hp, g) != 0 || htab_init(&hp->mirror, seed) != 0) {
		free(hp);
		return -1;
	}
	g->hostpres = hp;
	g->redis_gw_message = hostpres_message;
	if (redis_subscribe(g->redis_sub, "SUBSCRIBE", hp->chan,
	    strlen(hp->chan)) != 0)
		hp->errors++;
	period = (double)g->conf->redis_node_ttl / 3000.0;
	ev_timer_init(&hp->beat, on_beat, 0.0, period);
	hp->beat.data = hp;
	ev_timer_start(g->t->loop, &hp->beat);
	ev_timer_init(&hp->rebuild, on_rebuild,
	    (double)g->conf->redis_node_ttl / 1000.0, 0.0);
	hp->rebuild.data = hp;
	fetch(hp, 0);
	return 0;
}

static bool
muser_free(void *arg, void *e)
{
	(void)arg;
	free(e);
	return true;
}

/*
 * Before redislink_free(): the answers it still calls back (NULL) find no
 * g->hostpres and only free what they hold.
 */
void
hostpres_free(struct gateway *g)
{
	struct hostpres	*hp = g->hostpres;

	if (hp == NULL)
		return;
	ev_timer_stop(g->t->loop, &hp->beat);
	ev_timer_stop(g->t->loop, &hp->rebuild);
	htab_sweep(&hp->mirror, muser_free, NULL);
	htab_free(&hp->mirror);
	g->redis_gw_message = NULL;
	g->hostpres = NULL;
	free(hp);
}

/* A presence command failed: counted, and said once in a while. */
static void
failed(struct gateway *g, const char *what, const redisReply *r)
{
	struct hostpres	*hp = g->hostpres;

	if (hp == NULL)
		return;
	if (hp->errors++ % 100 == 0)
		log_warnx("redis presence: %s failed (%s); %llu so far", what,
		    r == NULL ? "no answer" : r->type == REDIS_REPLY_ERROR ?
		    r->str : "unexpected answer",
		    (unsigned long long)hp->errors);
}

/* ------------------------------------------------------------------ */
/* The mirror and this worker's sockets. */

static bool
muser_eq(const void *e, const void *k)
{
	const struct muser	*m = e;
	const struct ukey	*key = k;

	return m->len == key->len && memcmp(m->name, key->s, key->len) == 0;
}

static struct muser *
mirror_find(struct hostpres *hp, const char *user, size_t len, size_t *idx)
{
	struct ukey	key = { user, len };

	return htab_find(&hp->mirror, htab_hash(&hp->mirror, user, len),
	    muser_eq, &key, idx);
}

/* Into the mirror: 1 added, 0 there already, -1 no memory. */
static int
mirror_add(struct hostpres *hp, const char *user, size_t len)
{
	struct muser	*m;

	if ((m = mirror_find(hp, user, len, NULL)) != NULL) {
		m->seen = 1;
		return 0;
	}
	if ((m = malloc(sizeof(*m) + len + 1)) == NULL)
		return -1;
	m->hash = htab_hash(&hp->mirror, user, len);
	m->seen = 1;
	m->len = len;
	memcpy(m->name, user, len);
	m->name[len] = '\0';
	if (htab_insert(&hp->mirror, m) != 0) {
		free(m);
		return -1;
	}
	return 1;
}

/*
 * Tell this worker's sockets: mode "all", every socket but the user's own
 * (online.c's announce() spares the socket that made the transition, the
 * user's only one then; here the user may have more by now); mode
 * "scoped", the sockets subscribed to presence:<user>, and on leaving the
 * shared rooms scoped.c owes.
 */
struct tellall {
	const char	*user;
	size_t		 ulen;
};

/* f to every connected socket here but the user's own. */
static void
tell_all(struct gateway *g, struct frame *f, void *arg)
{
	struct tellall		*ta = arg;
	struct gw_socket	*gs;
	struct session		*s;

	for (s = g->t->all; s != NULL; s = s->next) {
		gs = s->app_data;
		if (s->nsp_mask == 0 || s->state == SESSION_CLOSED ||
		    (gs != NULL && gs->ulen == ta->ulen &&
		    memcmp(gs->user, ta->user, ta->ulen) == 0))
			continue;
		session_send(s, frame_ref(f));
		g->messages++;
	}
}

static void
tell(struct gateway *g, const char *event, const char *user, size_t ulen)
{
	struct tellall		 ta = { user, ulen };
	struct frame		*f, *d;
	json_t			*o;
	char			 room[ROOMNAME_SIZE + 16];
	int			 n;

	o = events_user_json(user);
	f = emit_frame(event, o);
	json_decref(o);
	if (f == NULL)
		return;
	if (g->conf->presence_mode != 0) {
		n = snprintf(room, sizeof(room), "presence:%s", user);
		if (n > 0 && (size_t)n < sizeof(room))
			deliver_local(g, room, (size_t)n, f, NULL);
	} else if (logdeliver_put(g, RECLOG_TO_ROOM, false, LOGDEL_ALL,
	    sizeof(LOGDEL_ALL) - 1, NULL, f, NULL, tell_all, &ta) != 0) {
		/* (in the log for all: a recovering socket of the user's own
		   hears of it too, a user_connected about itself) */
		d = logdeliver_strip(f);
		tell_all(g, d, &ta);
		frame_unref(d);
	}
	frame_unref(f);
}

static void
went_online(struct hostpres *hp, const char *user, size_t len)
{
	int	rc = mirror_add(hp, user, len);

	if (rc > 0)
		tell(hp->g, "user_connected", user, len);
	else if (rc < 0)
		log_warnx("redis presence: out of memory for the mirror");
}

static void
went_offline(struct hostpres *hp, const char *user, size_t len)
{
	struct muser	*m;
	size_t		 idx;

	if ((m = mirror_find(hp, user, len, &idx)) != NULL) {
		htab_remove(&hp->mirror, idx);
		free(m);
		tell(hp->g, "user_disconnected", user, len);
	}
	/* The rooms owed are told even if we missed the +: they are owed. */
	scoped_offline(hp->g, user, len, NULL);
}

/* A message on a "<key>-gw#..." channel: "+<user>" or "-<user>". */
static void
hostpres_message(struct gateway *g, char kind, const char *chan,
    size_t clen, const void *data, size_t len)
{
	struct hostpres	*hp = g->hostpres;
	const char	*p = data;
	char		 user[PRESENCE_USER_MAX + 1];

	if (hp == NULL || kind != 'm' || clen != strlen(hp->chan) ||
	    memcmp(chan, hp->chan, clen) != 0)
		return;
	/* Redis is shared: what comes from it is checked like a client's. */
	if (len < 2 || len - 1 > PRESENCE_USER_MAX || (p[0] != '+' &&
	    p[0] != '-') || !roomname_id_valid(p + 1, len - 1)) {
		log_debug("redis presence: a malformed message, ignored");
		return;
	}
	memcpy(user, p + 1, len - 1);
	user[len - 1] = '\0';
	if (p[0] == '+')
		went_online(hp, user, len - 1);
	else
		went_offline(hp, user, len - 1);
}

struct listing {
	struct gateway	*g;
	presence_cb	*cb;
	void		*arg;
};

static bool
list_one(void *arg, void *e)
{
	struct listing	*l = arg;
	struct muser	*m = e;

	if (!presence_online(l->g->presence, m->name))
		l->cb(l->arg, m->name);
	return false;
}

/* The mirror's users not in this instance's table (sync.c's greeting). */
void
hostpres_list(struct gateway *g, presence_cb *cb, void *arg)
{
	struct listing	l = { g, cb, arg };

	if (g->hostpres != NULL)
		htab_sweep(&g->hostpres->mirror, list_one, &l);
}

/* Is the user online in the cluster, as the mirror says? */
bool
hostpres_online(struct gateway *g, const char *user)
{
	return g->hostpres != NULL &&
	    mirror_find(g->hostpres, user, strlen(user), NULL) != NULL;
}

/* ------------------------------------------------------------------ */
/* Rebuilding the mirror: HGETALL online_users. */

static bool
unseen_out(void *arg, void *e)
{
	struct hostpres	*hp = arg;
	struct muser	*m = e;

	if (m->seen)
		return false;
	tell(hp->g, "user_disconnected", m->name, m->len);
	scoped_offline(hp->g, m->name, m->len, NULL);
	free(m);
	return true;
}

static bool
unsee(void *arg, void *e)
{
	(void)arg;
	((struct muser *)e)->seen = 0;
	return false;
}

static void
fetched(struct hostpres *hp, const redisReply *r, int full)
{
	const redisReply	*f;
	size_t			 i;

	if (full)
		htab_sweep(&hp->mirror, unsee, NULL);
	for (i = 0; i + 1 < r->elements; i += 2) {
		f = r->element[i];
		if (f->type != REDIS_REPLY_STRING || f->len == 0 ||
		    f->len > PRESENCE_USER_MAX ||
		    !roomname_id_valid(f->str, f->len) ||
		    r->element[i + 1]->type != REDIS_REPLY_STRING ||
		    atoll(r->element[i + 1]->str) <= 0)
			continue;
		went_online(hp, f->str, f->len);
	}
	if (full)
		htab_sweep(&hp->mirror, unseen_out, hp);
}

static void
on_fetch(void *arg, const struct redisReply *r, int full)
{
	struct gateway	*g = arg;
	struct hostpres	*hp = g->hostpres;

	if (hp == NULL)
		return;
	hp->fetching = 0;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		failed(g, "HGETALL online_users", r);
		return;
	}
	fetched(hp, r, full);
}

static void
on_fetch_add(void *arg, const struct redisReply *r)
{
	on_fetch(arg, r, 0);
}

static void
on_fetch_full(void *arg, const struct redisReply *r)
{
	on_fetch(arg, r, 1);
}

/* HGETALL online_users into the mirror; full: also take out the rest. */
static void
fetch(struct hostpres *hp, int full)
{
	const char	*argv[2] = { "HGETALL", "online_users" };
	size_t		 lens[2] = { 7, 12 };

	if (hp->fetching)
		return;
	if (redis_command(hp->g->redis, full ? on_fetch_full : on_fetch_add,
	    hp->g, 2, argv, lens) != 0) {
		failed(hp->g, "HGETALL online_users", NULL);
		return;
	}
	hp->fetching = 1;
}

static void
on_rebuild(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	fetch(w->data, 1);
}

/* ------------------------------------------------------------------ */
/* Transitions: ONLINE and OFFLINE. */

static struct batch *
batch_new(struct gateway *g, int online, size_t n)
{
	struct batch	*b;

	if ((b = calloc(1, sizeof(*b) + n * sizeof(char *))) == NULL)
		return NULL;
	b->g = g;
	b->online = online;
	return b;
}

static void
batch_free(struct batch *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++)
		free(b->users[i]);
	free(b);
}

/* The services hear of a cluster-wide transition, from this worker. */
static void
tell_services(struct gateway *g, const char *user, int online)
{
	engines_presence(g, user, online);
	authstatus_tell(g, user, online);
}

/* Was the batch's user still as the batch says, here? */
static int
still(const struct batch *b, size_t i)
{
	return presence_online(b->g->presence, b->users[i]) == (b->online != 0);
}

/*
 * A resync's batch was made from a list taken before it was sent: a user
 * that came or went since, its owner's script sent meanwhile on another
 * connection and perhaps run first, is set right by the opposite script.
 */
static void
recheck(struct batch *b)
{
	struct batch	*o;
	size_t		 i;

	if ((o = batch_new(b->g, !b->online, b->n)) == NULL)
		return;
	for (i = 0; i < b->n; i++)
		if (!still(b, i) && (o->users[o->n] = strdup(b->users[i])) !=
		    NULL)
			o->n++;
	if (o->n == 0 || batch_send(o) != 0)
		batch_free(o);
}

static void
batch_done(void *arg, const struct redisReply *r)
{
	struct batch	*b = arg;
	size_t		 i, j;

	if (b->g->hostpres == NULL) {	/* the worker is ending */
		batch_free(b);
		return;
	}
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		failed(b->g, b->online ? "ONLINE" : "OFFLINE", r);
		/*
		 * No answer: done or not, the script may run again (HSETNX,
		 * HDEL): send it again for the users still as it says.
		 */
		for (i = j = 0; i < b->n; i++)
			if (still(b, i))
				b->users[j++] = b->users[i];
			else
				free(b->users[i]);
		b->n = j;
		if (r == NULL && b->n > 0 &&
		    ++b->tries < TRIES && batch_send(b) == 0)
			return;
		batch_free(b);
		return;
	}
	for (i = 0; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			tell_services(b->g, r->element[i]->str, b->online);
	if (b->recheck)
		recheck(b);
	batch_free(b);
}

/* EVAL ONLINE or OFFLINE for the batch's users: 0, or -1 (not sent). */
static int
batch_send(struct batch *b)
{
	struct hostpres	*hp = b->g->hostpres;
	const char	**argv;
	size_t		 *lens, i, n = 6 + b->n;
	int		  rc = -1;

	argv = calloc(n, sizeof(*argv));
	lens = calloc(n, sizeof(*lens));
	if (argv != NULL && lens != NULL) {
		argv[0] = "EVAL";
		argv[1] = b->online ? ONLINE : OFFLINE;
		argv[2] = "2";
		argv[3] = hp->users;
		argv[4] = "online_users";
		argv[5] = hp->chan;
		for (i = 0; i < b->n; i++)
			argv[6 + i] = b->users[i];
		for (i = 0; i < n; i++)
			lens[i] = strlen(argv[i]);
		rc = redis_command(b->g->redis, batch_done, b, (int)n, argv,
		    lens);
	}
	free(argv);
	free(lens);
	if (rc != 0)
		failed(b->g, b->online ? "ONLINE" : "OFFLINE", NULL);
	return rc;
}

/*
 * A user's first socket in this instance opened (online 1) or its last
 * closed (0); online.c calls this on the user's owner only.
 */
void
hostpres_local(struct gateway *g, const char *user, int online)
{
	struct batch	*b;

	if (g->hostpres == NULL || (b = batch_new(g, online, 1)) == NULL)
		return;
	if ((b->users[0] = strdup(user)) == NULL) {
		batch_free(b);
		return;
	}
	b->n = 1;
	if (batch_send(b) != 0)
		batch_free(b);
}

/* ------------------------------------------------------------------ */
/* The heartbeat, the sweep, the re-registration. */

struct regs {
	struct batch	*b;
	int		 failed;
};

static void
reg_one(void *arg, const char *user)
{
	struct regs	*rs = arg;
	struct batch	*b = rs->b;

	if (b == NULL || rs->failed)
		return;
	if ((b->users[b->n] = strdup(user)) == NULL) {
		rs->failed = 1;
		return;
	}
	if (++b->n < REGISTER_BATCH)
		return;
	rs->b = NULL;
	if (batch_send(b) != 0) {
		batch_free(b);
		rs->failed = 1;
	} else if ((rs->b = batch_new(b->g, 1, REGISTER_BATCH)) == NULL)
		rs->failed = 1;
	else
		rs->b->recheck = 1;
}

/* Every user of this instance, into Redis again. */
static void
reregister(struct gateway *g)
{
	struct regs	rs = { NULL, 0 };

	if ((rs.b = batch_new(g, 1, REGISTER_BATCH)) == NULL)
		return;
	rs.b->recheck = 1;
	presence_list(g->presence, reg_one, &rs);
	if (rs.b == NULL)
		return;
	if (rs.failed || rs.b->n == 0 || batch_send(rs.b) != 0)
		batch_free(rs.b);
}

/* The users of the instance's hash that are not in its table: out. */
static void
on_keys(void *arg, const struct redisReply *r)
{
	struct gateway		*g = arg;
	struct batch		*b = NULL;
	const redisReply	*u;
	size_t			 i;

	if (g->hostpres == NULL)
		return;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		failed(g, "HKEYS of the instance", r);
		return;
	}
	for (i = 0; i < r->elements; i++) {
		u = r->element[i];
		if (u->type != REDIS_REPLY_STRING ||
		    presence_online(g->presence, u->str))
			continue;
		if (b == NULL && (b = batch_new(g, 0, REGISTER_BATCH)) == NULL)
			return;
		b->recheck = 1;
		if ((b->users[b->n] = strdup(u->str)) != NULL &&
		    ++b->n == REGISTER_BATCH) {
			if (batch_send(b) != 0)
				batch_free(b);
			b = NULL;
		}
	}
	if (b != NULL && (b->n == 0 || batch_send(b) != 0))
		batch_free(b);
}

/*
 * Redis made to say what this instance's table says: its users added
 * (HSETNX: those there already cost nothing), and the users of its hash
 * that are not in the table taken out (a script lost with a connection,
 * or refused past redis_queue_max).  The reply is bounded by the
 * instance's users and what was lost.
 */
static void
resync(struct gateway *g, const char *why)
{
	struct hostpres	*hp = g->hostpres;
	const char	*argv[2] = { "HKEYS", hp->users };
	size_t		 lens[2] = { 5, strlen(hp->users) };

	if (why != NULL)
		log_info("redis presence: %s: setting this gateway's %zu users "
		    "right in Redis", why, presence_count(g->presence));
	hp->errors_seen = hp->errors;
	reregister(g);
	if (redis_command(g->redis, on_keys, g, 2, argv, lens) != 0)
		failed(g, "HKEYS of the instance", NULL);
}

static void	beat(struct hostpres *);

static void
on_heartbeat(void *arg, const struct redisReply *r)
{
	struct gateway		*g = arg;
	struct hostpres		*hp = g->hostpres;
	const redisReply	*gone;
	size_t			 i;

	if (hp == NULL)
		return;
	hp->beating = 0;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
	    r->element[3]->type != REDIS_REPLY_ARRAY) {
		failed(g, "the heartbeat", r);
		return;
	}
	gone = r->element[3];
	for (i = 0; i < gone->elements; i++)
		if (gone->element[i]->type == REDIS_REPLY_STRING)
			tell_services(g, gone->element[i]->str, 0);
	if (r->element[1]->integer > 0) {
		hp->expired += (uint64_t)r->element[1]->integer;
		log_info("redis presence: %lld gateways without a heartbeat "
		    "taken for dead", r->element[1]->integer);
	}
	if (r->element[0]->integer == 0)	/* the first one: no news */
		resync(g, hp->beats == 0 ? NULL : "the heartbeat was gone "
		    "(Redis lost its data, or we were taken for dead)");
	hp->beats++;
	if (r->element[2]->integer != 0)
		beat(hp);	/* more to sweep: the next batch now */
}

static void
beat(struct hostpres *hp)
{
	struct gateway	*g = hp->g;
	const char	*argv[11];
	size_t		 lens[11], i;
	char		 ttl[32], batch[16];

	if (hp->beating)
		return;
	snprintf(ttl, sizeof(ttl), "%lld", g->conf->redis_node_ttl);
	snprintf(batch, sizeof(batch), "%d", SWEEP_BATCH);
	argv[0] = "EVAL";
	argv[1] = HEARTBEAT;
	argv[2] = "3";
	argv[3] = hp->node;
	argv[4] = hp->nodes;
	argv[5] = "online_users";
	argv[6] = g->redis_instance;
	argv[7] = ttl;
	argv[8] = hp->chan;
	argv[9] = hp->base;
	argv[10] = batch;
	for (i = 0; i < 11; i++)
		lens[i] = strlen(argv[i]);
	if (redis_command(g->redis, on_heartbeat, g, 11, argv, lens) != 0) {
		failed(g, "the heartbeat", NULL);
		return;
	}
	hp->beating = 1;
}

/*
 * Every ttl/3, on every worker: a subscriber that came back (events were
 * missed) rebuilds the mirror; presence commands that failed here since
 * the last look resync the instance (a script refused or lost; a lost
 * answer alone is sent again, batch_done()); the first worker of the list
 * beats, and resyncs when its command connection came back (whatever was
 * lost with the connections; one worker per instance: it costs an HKEYS
 * of the instance's hash and an HSETNX per user).
 */
static void
on_beat(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hostpres		*hp = w->data;
	struct gateway		*g = hp->g;
	struct redis_stats	 rs;
	int			 back, owner;

	(void)revents;
	redis_stats(g->redis_sub, &rs);
	if (rs.connects != hp->sub_connects) {
		hp->sub_connects = rs.connects;
		fetch(hp, 0);
		ev_timer_stop(loop, &hp->rebuild);
		ev_timer_start(loop, &hp->rebuild);
	}
	redis_stats(g->redis, &rs);
	owner = authsvc_owner(g, 0) == g->t->wid;
	back = rs.connects != hp->cmd_connects && hp->cmd_connects != 0;
	hp->cmd_connects = rs.connects;
	if (rs.up && ((back && owner) || hp->errors != hp->errors_seen))
		resync(g, back && owner ? "the connection to Redis is back" :
		    "presence commands failed");
	if (owner)
		beat(hp);
}

/* The figures for /metrics. */
void
hostpres_stats(const struct gateway *g, struct worker_stats *st)
{
	if (g->hostpres == NULL)
		return;
	st->redis_presence_errors = g->hostpres->errors;
	st->redis_nodes_expired = g->hostpres->expired;
	st->redis_users_mirrored = g->hostpres->mirror.n;
}

/*
 * spool: a durable, append-only queue of opaque records on disk, one file
 * per worker (spool.h says what it guarantees).  A handle holds its own
 * file, where it appends, and the files it took over from gone workers
 * (spool_file.c does the work on one file); it replays them oldest first,
 * and batches the ACKs and the fdatasync(2)s.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"
#include "spool_file.h"
#include "spool_rec.h"

#define SPOOL_NAMES_MAX		256		/* k in w<id>-<k>.spool */
#define SPOOL_COMPACT_MIN	(64 * 1024)	/* acked bytes worth a copy */

TAILQ_HEAD(spool_files, spool_file);

struct spool {
	struct spool_conf	 conf;
	char			*dir;
	struct spool_io		 io;
	struct spool_files	 files;		/* oldest first */
	struct spool_file	*own;
	uint64_t		 durable;	/* own seqs durable up to it */
	uint64_t		 last;		/* own seq appended last */
	unsigned		 unsynced;	/* appends not synced yet */
	int			 failed;	/* an fdatasync failed */
	ev_timer		 timer;
	struct spool_stats	 st;
};

static int	 parse_name(const char *, int *);
static void	 insert(struct spool *, struct spool_file *);
static void	 drop(struct spool *, struct spool_file *, int);
static void	 arm(struct spool *);
static void	 timer_cb(struct ev_loop *, ev_timer *, int);

/* The worker id of a spool file's name w<id>-<k>.spool, or -1. */
static int
parse_name(const char *name, int *wid)
{
	const char	*p = name;
	long		 v;
	char		*ep;

	if (*p++ != 'w' || *p < '0' || *p > '9')
		return (-1);
	errno = 0;
	v = strtol(p, &ep, 10);
	if (errno != 0 || v > INT_MAX || *ep != '-' || ep[1] < '0' ||
	    ep[1] > '9')
		return (-1);
	(void)strtol(ep + 1, &ep, 10);
	if (errno != 0 || strcmp(ep, ".spool") != 0)
		return (-1);
	*wid = v;
	return (0);
}

/*
 * Put f among the files held, oldest first; a file taken over goes
 * before the own one made at the same time (its worker is gone: its
 * records are the older ones).
 */
static void
insert(struct spool *s, struct spool_file *f)
{
	struct spool_file	*g;

	TAILQ_FOREACH(g, &s->files, entry) {
		if (g->created > f->created ||
		    (g->created == f->created && g->own)) {
			TAILQ_INSERT_BEFORE(g, f, entry);
			return;
		}
	}
	TAILQ_INSERT_TAIL(&s->files, f, entry);
}

/* Stop holding f; delete it first if unlink (it holds nothing). */
static void
drop(struct spool *s, struct spool_file *f, int unlink)
{
	TAILQ_REMOVE(&s->files, f, entry);
	if (s->own == f)
		s->own = NULL;
	spool_file_free(&s->io, f, unlink);
}

/*
 * Open the spool of worker conf->wid in conf->dir: take this worker's
 * file (the first w<id>-<k>.spool no live process holds, made if need
 * be), then every other file of this worker id that nobody holds, and
 * load them.  NULL and a log line if the directory or no file can be
 * used.
 */
struct spool *
spool_open(const struct spool_conf *conf)
{
	struct spool	*s;
	struct spool_file	*f = NULL;
	char		 name[64], tmp[80];
	int		 k, fd;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return (NULL);
	s->conf = *conf;
	if (s->conf.sync_records == 0)
		s->conf.sync_records = 1;
	s->io.dirfd = -1;
	TAILQ_INIT(&s->files);
	ev_timer_init(&s->timer, timer_cb, 0, 0);
	s->timer.data = s;
	if ((s->dir = strdup(conf->dir)) == NULL)
		goto fail;
	s->io.dir = s->dir;
	s->io.dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->io.dirfd == -1) {
		log_warn("spool: %s", s->dir);
		goto fail;
	}
	for (k = 0; k < SPOOL_NAMES_MAX && f == NULL; k++) {
		snprintf(name, sizeof name, "w%d-%d.spool", conf->wid, k);
		if ((fd = spool_file_take(&s->io, name, 1)) == -1) {
			if (errno == EWOULDBLOCK || errno == ENOENT)
				continue;
			log_warn("spool: %s/%s", s->dir, name);
			goto fail;
		}
		if ((f = spool_file_load(&s->io, name, fd, 1)) == NULL) {
			if (errno != EAGAIN)
				goto fail;
			k--;	/* moved aside: the name is free */
		}
	}
	if (f == NULL) {
		log_warnx("spool: %s: no free file name for worker %d",
		    s->dir, conf->wid);
		goto fail;
	}
	s->own = f;
	insert(s, f);
	/* A compaction's copy left by a crash is ours now: remove it. */
	snprintf(tmp, sizeof tmp, "%s.tmp", f->name);
	if (unlinkat(s->io.dirfd, tmp, 0) == -1 && errno != ENOENT)
		log_warn("spool: unlink %s/%s", s->dir, tmp);
	s->last = s->durable = f->next_seq - 1;
	spool_adopt(s, INT_MAX);
	return (s);

fail:
	spool_close(s);
	return (NULL);
}

/*
 * Sync (the ACKs taken, the own file truncated when all of it was taken)
 * and let go of every file.  The own file is deleted if it holds nothing.
 */
void
spool_close(struct spool *s)
{
	struct spool_file	*f;

	if (s == NULL)
		return;
	if (s->own != NULL)
		spool_sync(s);
	if (s->conf.loop != NULL)
		ev_timer_stop(s->conf.loop, &s->timer);
	while ((f = TAILQ_FIRST(&s->files)) != NULL)
		drop(s, f, f->own && f->depth == 0 && !s->failed);
	if (s->io.dirfd != -1)
		close(s->io.dirfd);
	free(s->io.buf);
		free(s->dir);
	free(s);
}

/* Start the sync timer if it does not run yet. */
static void
arm(struct spool *s)
{
	if (s->conf.loop == NULL || ev_is_active(&s->timer))
		return;
	ev_timer_set(&s->timer, s->conf.sync_ms / 1000.0, 0);
	ev_timer_start(s->conf.loop, &s->timer);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	spool_sync(w->data);
}

/*
 * Append a record of len bytes to this worker's file with one write:
 * 0 and its seq in *seqp (durable once spool_durable() reaches it), or
 * -1 and errno: EFBIG past max_bytes (counted as refused), EMSGSIZE
 * above SPOOL_REC_MAX, EIO once an fdatasync failed, or the write's.
 * Nothing of a failed append stays in the file.
 */
int
spool_append(struct spool *s, const void *data, size_t len, uint64_t *seqp)
{
	struct spool_file	*f = s->own;
	uint64_t		 size = SPOOL_REC_HDR_LEN + len;

	if (s->failed || len > SPOOL_REC_MAX) {
		errno = s->failed ? EIO : EMSGSIZE;
		s->st.errors++;
		return (-1);
	}
	if (s->conf.max_bytes != 0 && f->end + size > s->conf.max_bytes &&
	    f->rd > SPOOL_FILE_HDR_LEN) {
		/* Room may be had by dropping what was taken. */
		if (f->depth == 0)
			spool_file_truncate(&s->io, f);
		else
			spool_file_compact(&s->io, f);
	}
	if (s->conf.max_bytes != 0 && f->end + size > s->conf.max_bytes) {
		s->st.refused++;
		errno = EFBIG;
		return (-1);
	}
	if (spool_file_append(&s->io, f, data, len) == -1) {
		s->st.errors++;
		return (-1);
	}
	s->last = f->next_seq - 1;
	s->st.appended++;
	if (seqp != NULL)
		*seqp = s->last;
	if (++s->unsynced >= s->conf.sync_records)
		spool_sync(s);
	else
		arm(s);
	return (0);
}

/*
 * Make everything written durable: write an ACK for what was taken since
 * the last sync (or truncate the own file if all of it was, or compact
 * it if its taken prefix is large), fdatasync each file written, then
 * tell the durable callback.  A failed fdatasync is not retried: the
 * kernel may already have dropped the pages it could not write, so a
 * later success would promise what is lost; the spool refuses appends
 * from then on (EIO) and the records not yet durable never become so.
 */
int
spool_sync(struct spool *s)
{
	struct spool_file	*f;
	uint64_t		 taken;

	if (s->conf.loop != NULL)
		ev_timer_stop(s->conf.loop, &s->timer);
	if (s->failed) {
		errno = EIO;
		return (-1);
	}
	TAILQ_FOREACH(f, &s->files, entry) {
		taken = f->rd - SPOOL_FILE_HDR_LEN;
		if (f->own && f->depth == 0 && f->end > SPOOL_FILE_HDR_LEN)
			spool_file_truncate(&s->io, f);
		else if (!f->own || taken < SPOOL_COMPACT_MIN ||
		    taken < (f->end - SPOOL_FILE_HDR_LEN) / 2 ||
		    spool_file_compact(&s->io, f) == -1)
			spool_file_put_ack(&s->io, f);
		if (spool_file_sync(&s->io, f) == -1) {
			s->failed = 1;
			errno = EIO;
			return (-1);
		}
	}
	s->unsynced = 0;
	if (s->durable != s->last) {
		s->durable = s->last;
		if (s->conf.durable != NULL)
			s->conf.durable(s->conf.arg, s->durable);
	}
	return (0);
}

/* Every record this handle appended up to this seq is on disk. */
uint64_t
spool_durable(const struct spool *s)
{
	return (s->durable);
}

/*
 * The oldest record not taken yet: 1 and its payload in *data, *len
 * (valid until the next call on s), 0 if there is none.  The same
 * record comes back until spool_ack() drops it.
 */
int
spool_peek(struct spool *s, const void **data, size_t *len)
{
	struct spool_file		*f, *next;
	struct spool_rec	 r;

	for (f = TAILQ_FIRST(&s->files); f != NULL; f = next) {
		next = TAILQ_NEXT(f, entry);
		if (f->depth == 0)
			continue;
		if (spool_file_read(&s->io, f, &r) == -1) {
			if (!f->own)
				drop(s, f, 1);
			continue;
		}
		f->peek_seq = r.seq;
		f->peek_size = r.size;
		*data = r.body;
		*len = r.len;
		return (1);
	}
	return (0);
}

/*
 * The oldest record was taken: drop it.  0, or -1 (errno ENOENT) if
 * there is none.  The ACK reaches the disk with the next sync; a file
 * taken over from a gone worker is deleted once all of it was taken.
 */
int
spool_ack(struct spool *s)
{
	struct spool_file	*f;
	const void	*data;
	size_t		 len;

	TAILQ_FOREACH(f, &s->files, entry)
		if (f->depth > 0)
			break;
	if (f != NULL && f->peek_size == 0 && spool_peek(s, &data, &len) == 1)
		TAILQ_FOREACH(f, &s->files, entry)
			if (f->depth > 0)
				break;
	if (f == NULL || f->peek_size == 0) {
		errno = ENOENT;
		return (-1);
	}
	f->rd += f->peek_size;
	f->acked = f->peek_seq;
	f->depth--;
	f->bytes -= f->peek_size - SPOOL_REC_HDR_LEN;
	f->peek_size = 0;
	s->st.acked++;
	if (!f->own && f->depth == 0)
		drop(s, f, 1);
	else
		arm(s);
	return (0);
}

/*
 * The n-th record not taken yet (0: the oldest, as spool_peek()), read
 * without taking or moving anything: 1 and its payload in *data, *len
 * (valid until the next call on s), 0 if there are not that many, or if
 * a record on the way cannot be read (spool_peek() cuts it when it gets
 * there).  Stateless: each call walks from each file's oldest record
 * not taken, so acks, compactions (which move the offsets) and dropped
 * files cannot make it stale; the cost is a header read per record
 * skipped.
 */
int
spool_peek_nth(struct spool *s, uint64_t n, const void **data, size_t *len)
{
	struct spool_file	*f;
	struct spool_rec	 r;
	uint8_t			 h[SPOOL_REC_HDR_LEN];
	uint64_t		 off;
	size_t			 size;

	TAILQ_FOREACH(f, &s->files, entry) {
		if (n >= f->depth) {
			n -= f->depth;
			continue;
		}
		for (off = f->rd; off < f->end; off += size) {
			if (pread(f->fd, h, sizeof h, off) != (ssize_t)sizeof h)
				return (0);
			spool_rec_peek_hdr(h, &r);
			size = r.size;
			if (size > SPOOL_REC_HDR_LEN + SPOOL_REC_MAX ||
			    off + size > f->end)
				return (0);
			if (r.type != SPOOL_REC_DATA || r.seq <= f->acked)
				continue;
			if (n-- > 0)
				continue;
			if (spool_file_pread(&s->io, f, off, size, &r) == -1)
				return (0);
			*data = r.body;
			*len = r.len;
			return (1);
		}
		return (0);
	}
	return (0);
}

/*
 * Take over the spool files that no live process holds, of this worker's
 * id and of every id >= nworkers (the ids no worker has any more; 0 or
 * less: every id), so that their records are replayed here.  A worker
 * slot that will be respawned keeps its file for its next process, which
 * replays it before what it appends itself.  The number of files taken.
 */
int
spool_adopt(struct spool *s, int nworkers)
{
	struct spool_file	*f;
	struct dirent	*de;
	DIR		*d;
	int		 fd, wid, n = 0;

	if ((fd = dup(s->io.dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("spool: %s", s->dir);
		if (fd != -1)
			close(fd);
		return (0);
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (parse_name(de->d_name, &wid) == -1)
			continue;
		if (wid != s->conf.wid && nworkers > 0 && wid < nworkers)
			continue;
		TAILQ_FOREACH(f, &s->files, entry)
			if (strcmp(f->name, de->d_name) == 0)
				break;
		if (f != NULL || strlen(de->d_name) >= sizeof f->name)
			continue;
		if ((fd = spool_file_take(&s->io, de->d_name, 0)) == -1)
			continue;
		if ((f = spool_file_load(&s->io, de->d_name, fd, 0)) == NULL)
			continue;
		insert(s, f);
		s->st.adopted++;
		n++;
		log_info("spool: %s/%s taken over: %llu records to replay",
		    s->dir, f->name, (unsigned long long)f->depth);
	}
	closedir(d);
	return (n);
}

/* The counters, and the depth and sizes of the files held now. */
void
spool_stats(const struct spool *s, struct spool_stats *st)
{
	const struct spool_file	*f;

	*st = s->st;
	st->torn = s->io.torn;
	st->torn_bytes = s->io.torn_bytes;
	st->compactions = s->io.compactions;
	st->syncs = s->io.syncs;
	st->depth = st->bytes = st->file_bytes = 0;
	st->files = 0;
	TAILQ_FOREACH(f, &s->files, entry) {
		st->depth += f->depth;
		st->bytes += f->bytes;
		st->file_bytes += f->end;
		st->files++;
	}
}

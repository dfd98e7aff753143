/*
 * spool: a durable, append-only queue of opaque records on disk, one file
 * per worker (spool.h says what it guarantees, spool_rec.h how a file is
 * written).  A handle holds its own file, where it appends, and the files
 * it took over from gone workers; it replays them oldest first.
 *
 * In memory a file is a few offsets: end (where the next record goes),
 * rd (the oldest record not taken) and the seqs acked and acked on disk.
 * Nothing of the records is kept in memory; spool_peek() reads the oldest
 * one back with pread(2).
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"
#include "spool_rec.h"

#define SPOOL_NAMES_MAX		256		/* k in w<id>-<k>.spool */
#define SPOOL_COMPACT_MIN	(64 * 1024)	/* acked bytes worth a copy */
#define SPOOL_CHUNK		(64 * 1024)	/* reads when a file opens */

struct sfile {
	TAILQ_ENTRY(sfile)	 entry;
	char			 name[64];
	int			 fd;
	int			 own;		/* appended to */
	int			 dirty;		/* written, not synced */
	uint64_t		 created;
	uint64_t		 end;		/* valid bytes; appends go here */
	uint64_t		 rd;		/* oldest record not taken */
	uint64_t		 next_seq;	/* the next DATA record's */
	uint64_t		 acked;		/* DATA up to here were taken */
	uint64_t		 acked_disk;	/* ... and an ACK says so */
	uint64_t		 depth;		/* DATA records not taken */
	uint64_t		 bytes;		/* and their payload bytes */
	uint64_t		 peek_seq;	/* the record at rd, if peeked */
	size_t			 peek_size;	/* its size; 0: not peeked */
};
TAILQ_HEAD(sfiles, sfile);

struct spool {
	struct spool_conf	 conf;
	char			*dir;
	int			 dirfd;
	struct sfiles		 files;		/* oldest first */
	struct sfile		*own;
	uint64_t		 durable;	/* own seqs on disk up to here */
	uint64_t		 last;		/* own seq appended last */
	unsigned		 unsynced;	/* appends since the last sync */
	int			 failed;	/* an fdatasync failed */
	ev_timer		 timer;
	uint8_t			*buf;		/* reads: scans and peeks */
	size_t			 bufsz;
	struct spool_stats	 st;
};

static int	 buf_reserve(struct spool *, size_t);
static int	 take(struct spool *, const char *, int);
static int	 parse_name(const char *, int *);
static void	 insert(struct spool *, struct sfile *);
static int	 init_file(struct spool *, struct sfile *);
static int	 scan(struct spool *, struct sfile *, uint64_t, int);
static struct sfile *load(struct spool *, const char *, int, int);
static void	 drop(struct spool *, struct sfile *, int);
static int	 truncate_own(struct spool *, struct sfile *);
static int	 compact(struct spool *, struct sfile *);
static int	 read_rec(struct spool *, struct sfile *, struct spool_rec *);
static void	 arm(struct spool *);
static void	 timer_cb(struct ev_loop *, ev_timer *, int);

/* Make the read buffer at least n bytes long. */
static int
buf_reserve(struct spool *s, size_t n)
{
	uint8_t	*p;

	if (s->bufsz >= n)
		return (0);
	if ((p = realloc(s->buf, n)) == NULL)
		return (-1);
	s->buf = p;
	s->bufsz = n;
	return (0);
}

/*
 * Open name in the spool directory (making it if create) and lock it
 * for this handle alone: the fd, or -1 with errno EWOULDBLOCK when a live
 * process holds it, ENOENT when it is gone.  Having the lock is not
 * enough: the holder may have renamed a compacted copy over the name, or
 * deleted the file, between our open and our lock, and the lock we got is
 * then on a file nobody will look at again.  So the name must still
 * name the locked file; if not, the new one is tried once more.
 */
static int
take(struct spool *s, const char *name, int create)
{
	struct stat	a, b;
	int		fd, tries, saved;

	for (tries = 0; tries < 3; tries++) {
		fd = openat(s->dirfd, name, O_RDWR | O_CLOEXEC |
		    (create ? O_CREAT : 0), 0600);
		if (fd == -1)
			return (-1);
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			saved = errno;
			close(fd);
			errno = saved;
			return (-1);
		}
		if (fstat(fd, &a) == 0 &&
		    fstatat(s->dirfd, name, &b, 0) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return (fd);
		close(fd);
	}
	errno = ENOENT;
	return (-1);
}

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
insert(struct spool *s, struct sfile *f)
{
	struct sfile	*g;

	TAILQ_FOREACH(g, &s->files, entry) {
		if (g->created > f->created ||
		    (g->created == f->created && g->own)) {
			TAILQ_INSERT_BEFORE(g, f, entry);
			return;
		}
	}
	TAILQ_INSERT_TAIL(&s->files, f, entry);
}

/* Write a new file's header and make it and its name durable. */
static int
init_file(struct spool *s, struct sfile *f)
{
	struct timespec	ts;
	uint8_t		h[SPOOL_FILE_HDR_LEN];

	clock_gettime(CLOCK_REALTIME, &ts);
	f->created = (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	spool_rec_put_file_hdr(h, f->created);
	if (ftruncate(f->fd, 0) == -1 ||
	    pwrite(f->fd, h, sizeof h, 0) != (ssize_t)sizeof h ||
	    fdatasync(f->fd) == -1 || fsync(s->dirfd) == -1) {
		log_warn("spool: %s/%s: write", s->dir, f->name);
		return (-1);
	}
	f->end = f->rd = SPOOL_FILE_HDR_LEN;
	f->next_seq = 1;
	return (0);
}

/*
 * Read f's records from its header to limit.  Pass 1 finds where the
 * valid records end (f->end: the first one that does not decode, or
 * whose seq does not follow, ends the file), the last DATA seq and the
 * highest ACK.  Pass 2, up to f->end, finds the oldest record not
 * acked (f->rd) and counts those (depth, bytes).  -1 on a read error.
 */
static int
scan(struct spool *s, struct sfile *f, uint64_t limit, int pass)
{
	struct spool_rec	 r;
	uint64_t		 off, boff, last = 0;
	size_t			 have = 0, at;
	ssize_t			 n;
	int			 rc;

	off = boff = SPOOL_FILE_HDR_LEN;
	if (pass == 2)
		f->rd = 0;
	for (;;) {
		at = off - boff;
		rc = spool_rec_decode(s->buf + at, have - at, &r);
		if (rc == SPOOL_REC_SHORT && boff + have < limit) {
			/* Keep the part read, read on. */
			memmove(s->buf, s->buf + at, have - at);
			have -= at;
			boff = off;
			if (buf_reserve(s, have + SPOOL_CHUNK) == -1)
				return (-1);
			n = pread(f->fd, s->buf + have, limit - boff - have <
			    SPOOL_CHUNK ? limit - boff - have : SPOOL_CHUNK,
			    boff + have);
			if (n <= 0) {
				if (n == 0)
					errno = EIO;
				log_warn("spool: %s/%s: read", s->dir,
				    f->name);
				return (-1);
			}
			have += n;
			continue;
		}
		if (rc != SPOOL_REC_OK)
			break;
		if (pass == 1 && r.type == SPOOL_REC_DATA) {
			if (last != 0 && r.seq != last + 1)
				break;
			last = r.seq;
		} else if (pass == 1 && r.seq > f->acked)
			f->acked = r.seq;
		if (pass == 2 && r.type == SPOOL_REC_DATA &&
		    r.seq > f->acked) {
			if (f->rd == 0)
				f->rd = off;
			f->depth++;
			f->bytes += r.len;
		}
		off += r.size;
	}
	if (pass == 1) {
		f->end = off;
		f->next_seq = last + 1;
		f->acked_disk = f->acked;
	} else if (f->rd == 0)
		f->rd = f->end;
	return (0);
}

/*
 * Load the file name that fd holds locked: check its header, cut a torn
 * tail, find what is left to replay.  An own file that holds nothing yet
 * gets its header.  NULL if the file cannot be used: not a spool file (it
 * is renamed to name.bad and left alone, errno EAGAIN: try the name
 * again), a read error, or a file taken over that holds nothing to
 * replay (deleted, errno 0).
 */
static struct sfile *
load(struct spool *s, const char *name, int fd, int own)
{
	struct sfile	*f;
	struct stat	 sb;
	uint8_t		 h[SPOOL_FILE_HDR_LEN];
	char		 bad[80];
	ssize_t		 n;
	int		 rc;

	if ((f = calloc(1, sizeof *f)) == NULL) {
		close(fd);
		return (NULL);
	}
	f->fd = fd;
	f->own = own;
	snprintf(f->name, sizeof f->name, "%s", name);
	if (fstat(fd, &sb) == -1 || (n = pread(fd, h, sizeof h, 0)) == -1) {
		log_warn("spool: %s/%s: read", s->dir, name);
		goto fail;
	}
	if ((rc = spool_rec_file_hdr(h, n, &f->created)) == -1) {
		snprintf(bad, sizeof bad, "%s.bad", name);
		log_warnx("spool: %s/%s is not a spool file: renamed to %s",
		    s->dir, name, bad);
		if (renameat(s->dirfd, name, s->dirfd, bad) == -1)
			log_warn("spool: rename %s/%s", s->dir, name);
		else
			errno = EAGAIN;
		goto fail;
	}
	if (rc == 1) {
		/* Made and never written: holds nothing. */
		if (!own)
			goto empty;
		if (init_file(s, f) == -1)
			goto fail;
		return (f);
	}
	if (buf_reserve(s, SPOOL_CHUNK) == -1 ||
	    scan(s, f, sb.st_size, 1) == -1)
		goto fail;
	if (f->end < (uint64_t)sb.st_size) {
		s->st.torn++;
		s->st.torn_bytes += sb.st_size - f->end;
		log_warnx("spool: %s/%s: torn tail of %llu bytes at offset "
		    "%llu cut", s->dir, name,
		    (unsigned long long)(sb.st_size - f->end),
		    (unsigned long long)f->end);
		if (ftruncate(fd, f->end) == -1) {
			log_warn("spool: %s/%s: ftruncate", s->dir, name);
			goto fail;
		}
	}
	/* What the last holder wrote is durable from here on. */
	if (fdatasync(fd) == -1) {
		log_warn("spool: %s/%s: fdatasync", s->dir, name);
		goto fail;
	}
	if (scan(s, f, f->end, 2) == -1)
		goto fail;
	if (!own && f->depth == 0)
		goto empty;
	return (f);

empty:
	if (unlinkat(s->dirfd, name, 0) == -1)
		log_warn("spool: unlink %s/%s", s->dir, name);
	errno = 0;
fail:
	close(fd);
	free(f);
	return (NULL);
}

/* Stop holding f; delete it first if unlink (it holds nothing). */
static void
drop(struct spool *s, struct sfile *f, int unlink)
{
	if (unlink && unlinkat(s->dirfd, f->name, 0) == -1)
		log_warn("spool: unlink %s/%s", s->dir, f->name);
	TAILQ_REMOVE(&s->files, f, entry);
	close(f->fd);
	if (s->own == f)
		s->own = NULL;
	free(f);
}

/* Everything in the own file was taken: back to its header alone. */
static int
truncate_own(struct spool *s, struct sfile *f)
{
	if (ftruncate(f->fd, SPOOL_FILE_HDR_LEN) == -1) {
		log_warn("spool: %s/%s: ftruncate", s->dir, f->name);
		return (-1);
	}
	f->end = f->rd = SPOOL_FILE_HDR_LEN;
	f->acked_disk = f->acked;
	f->peek_size = 0;
	f->dirty = 1;
	return (0);
}

/*
 * Drop the acked prefix of the own file: copy what is left to name.tmp,
 * make it durable, rename it over the file and make the rename durable.
 * The copy is locked before the rename, so the name never names a file
 * nobody holds.  On failure the file is as it was.
 */
static int
compact(struct spool *s, struct sfile *f)
{
	char		tmp[80];
	uint8_t		h[SPOOL_FILE_HDR_LEN];
	uint64_t	off, len;
	ssize_t		n;
	int		fd;

	snprintf(tmp, sizeof tmp, "%s.tmp", f->name);
	fd = openat(s->dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		log_warn("spool: %s/%s: open", s->dir, tmp);
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1)
		goto fail;
	spool_rec_put_file_hdr(h, f->created);
	if (pwrite(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
		goto fail;
	if (buf_reserve(s, SPOOL_CHUNK) == -1)
		goto fail;
	for (off = f->rd; off < f->end; off += n) {
		len = f->end - off < SPOOL_CHUNK ? f->end - off : SPOOL_CHUNK;
		if ((n = pread(f->fd, s->buf, len, off)) <= 0)
			goto fail;
		if (pwrite(fd, s->buf, n, SPOOL_FILE_HDR_LEN + off - f->rd) !=
		    n)
			goto fail;
	}
	if (fdatasync(fd) == -1 ||
	    renameat(s->dirfd, tmp, s->dirfd, f->name) == -1)
		goto fail;
	if (fsync(s->dirfd) == -1)
		log_warn("spool: %s: fsync", s->dir);
	close(f->fd);
	f->fd = fd;
	f->end = SPOOL_FILE_HDR_LEN + f->end - f->rd;
	f->rd = SPOOL_FILE_HDR_LEN;
	f->acked_disk = f->acked;
	f->peek_size = 0;
	f->dirty = 0;
	s->st.compactions++;
	return (0);

fail:
	log_warn("spool: %s/%s: compaction", s->dir, f->name);
	unlinkat(s->dirfd, tmp, 0);
	close(fd);
	return (-1);
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
	struct sfile	*f = NULL;
	char		 name[64];
	int		 k, fd;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return (NULL);
	s->conf = *conf;
	if (s->conf.sync_records == 0)
		s->conf.sync_records = 1;
	s->dirfd = -1;
	TAILQ_INIT(&s->files);
	ev_timer_init(&s->timer, timer_cb, 0, 0);
	s->timer.data = s;
	if ((s->dir = strdup(conf->dir)) == NULL)
		goto fail;
	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd == -1) {
		log_warn("spool: %s", s->dir);
		goto fail;
	}
	for (k = 0; k < SPOOL_NAMES_MAX && f == NULL; k++) {
		snprintf(name, sizeof name, "w%d-%d.spool", conf->wid, k);
		if ((fd = take(s, name, 1)) == -1) {
			if (errno == EWOULDBLOCK || errno == ENOENT)
				continue;
			log_warn("spool: %s/%s", s->dir, name);
			goto fail;
		}
		if ((f = load(s, name, fd, 1)) == NULL) {
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
	struct sfile	*f;

	if (s == NULL)
		return;
	if (s->own != NULL)
		spool_sync(s);
	if (s->conf.loop != NULL)
		ev_timer_stop(s->conf.loop, &s->timer);
	while ((f = TAILQ_FIRST(&s->files)) != NULL)
		drop(s, f, f->own && f->depth == 0 && !s->failed);
	if (s->dirfd != -1)
		close(s->dirfd);
	free(s->buf);
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
	struct sfile	*f = s->own;
	struct iovec	 iov[2];
	uint8_t		 h[SPOOL_REC_HDR_LEN];
	uint64_t	 size = SPOOL_REC_HDR_LEN + len;
	ssize_t		 n;

	if (s->failed || len > SPOOL_REC_MAX) {
		errno = s->failed ? EIO : EMSGSIZE;
		s->st.errors++;
		return (-1);
	}
	if (s->conf.max_bytes != 0 && f->end + size > s->conf.max_bytes &&
	    f->rd > SPOOL_FILE_HDR_LEN) {
		/* Room may be had by dropping what was taken. */
		if (f->depth == 0)
			truncate_own(s, f);
		else
			compact(s, f);
	}
	if (s->conf.max_bytes != 0 && f->end + size > s->conf.max_bytes) {
		s->st.refused++;
		errno = EFBIG;
		return (-1);
	}
	spool_rec_put_hdr(h, SPOOL_REC_DATA, f->next_seq, data, len);
	iov[0].iov_base = h;
	iov[0].iov_len = sizeof h;
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = len;
	if ((n = pwritev(f->fd, iov, len > 0 ? 2 : 1, f->end)) !=
	    (ssize_t)size) {
		if (n >= 0)
			errno = ENOSPC;
		log_warn("spool: %s/%s: write", s->dir, f->name);
		n = errno;
		if (ftruncate(f->fd, f->end) == -1)
			log_warn("spool: %s/%s: ftruncate", s->dir, f->name);
		errno = n;
		s->st.errors++;
		return (-1);
	}
	f->end += size;
	f->depth++;
	f->bytes += len;
	f->dirty = 1;
	s->last = f->next_seq++;
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
	struct sfile	*f;
	uint8_t		 h[SPOOL_REC_HDR_LEN];
	uint64_t	 taken;

	if (s->conf.loop != NULL)
		ev_timer_stop(s->conf.loop, &s->timer);
	if (s->failed) {
		errno = EIO;
		return (-1);
	}
	TAILQ_FOREACH(f, &s->files, entry) {
		taken = f->rd - SPOOL_FILE_HDR_LEN;
		if (f->own && f->depth == 0 && f->end > SPOOL_FILE_HDR_LEN)
			truncate_own(s, f);
		else if (f->own && taken >= SPOOL_COMPACT_MIN &&
		    taken >= (f->end - SPOOL_FILE_HDR_LEN) / 2 &&
		    compact(s, f) == 0)
			;
		else if (f->acked > f->acked_disk) {
			spool_rec_put_hdr(h, SPOOL_REC_ACK, f->acked, NULL, 0);
			if (pwrite(f->fd, h, sizeof h, f->end) == sizeof h) {
				f->end += sizeof h;
				f->acked_disk = f->acked;
				f->dirty = 1;
			} else
				log_warn("spool: %s/%s: write", s->dir,
				    f->name);
		}
		if (!f->dirty)
			continue;
		s->st.syncs++;
		if (fdatasync(f->fd) == -1) {
			log_warn("spool: %s/%s: fdatasync", s->dir, f->name);
			s->failed = 1;
			errno = EIO;
			return (-1);
		}
		f->dirty = 0;
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
 * Read the DATA record at f->rd into the read buffer, skipping ACKs:
 * 0 and *r, or -1 if it cannot be read back as it was written (the rest
 * of the file is then lost: it is cut and counted as torn).
 */
static int
read_rec(struct spool *s, struct sfile *f, struct spool_rec *r)
{
	uint8_t		h[SPOOL_REC_HDR_LEN];
	size_t		size;

	while (f->rd < f->end) {
		if (pread(f->fd, h, sizeof h, f->rd) != (ssize_t)sizeof h)
			goto bad;
		size = SPOOL_REC_HDR_LEN + ((size_t)h[4] << 24 |
		    (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7]);
		if (size > SPOOL_REC_HDR_LEN + SPOOL_REC_MAX ||
		    f->rd + size > f->end || buf_reserve(s, size) == -1 ||
		    pread(f->fd, s->buf, size, f->rd) != (ssize_t)size ||
		    spool_rec_decode(s->buf, size, r) != SPOOL_REC_OK)
			goto bad;
		if (r->type == SPOOL_REC_DATA && r->seq > f->acked)
			return (0);
		f->rd += size;
	}
bad:
	log_warnx("spool: %s/%s: record at offset %llu unreadable: the "
	    "%llu records after it are lost", s->dir, f->name,
	    (unsigned long long)f->rd, (unsigned long long)f->depth);
	s->st.torn++;
	s->st.torn_bytes += f->end - f->rd;
	if (ftruncate(f->fd, f->rd) == 0)
		f->end = f->rd;
	f->depth = f->bytes = 0;
	return (-1);
}

/*
 * The oldest record not taken yet: 1 and its payload in *data, *len
 * (valid until the next call on s), 0 if there is none.  The same
 * record comes back until spool_ack() drops it.
 */
int
spool_peek(struct spool *s, const void **data, size_t *len)
{
	struct sfile		*f, *next;
	struct spool_rec	 r;

	for (f = TAILQ_FIRST(&s->files); f != NULL; f = next) {
		next = TAILQ_NEXT(f, entry);
		if (f->depth == 0)
			continue;
		if (read_rec(s, f, &r) == -1) {
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
	struct sfile	*f;
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
 * Take over the spool files that no live process holds, of this worker's
 * id and of every id >= nworkers (the ids no worker has any more; 0 or
 * less: every id), so that their records are replayed here.  A worker
 * slot that will be respawned keeps its file for its next process, which
 * replays it before what it appends itself.  The number of files taken.
 */
int
spool_adopt(struct spool *s, int nworkers)
{
	struct sfile	*f;
	struct dirent	*de;
	DIR		*d;
	int		 fd, wid, n = 0;

	if ((fd = dup(s->dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
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
		if ((fd = take(s, de->d_name, 0)) == -1)
			continue;
		if ((f = load(s, de->d_name, fd, 0)) == NULL)
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
	const struct sfile	*f;

	*st = s->st;
	st->depth = st->bytes = st->file_bytes = 0;
	st->files = 0;
	TAILQ_FOREACH(f, &s->files, entry) {
		st->depth += f->depth;
		st->bytes += f->bytes;
		st->file_bytes += f->end;
		st->files++;
	}
}

/*
 * spool_file: one spool file on disk (spool_file.h): its lock, its
 * loading with a torn tail cut, its records written, synced and read
 * back, and its taken prefix dropped.  The callers are spool.c's.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spool_file.h"
#include "spool_rec.h"

#define SPOOL_CHUNK		(64 * 1024)	/* reads when a file opens */

static int	 reserve(struct spool_io *, size_t);
static int	 init_file(struct spool_io *, struct spool_file *);
static int	 scan(struct spool_io *, struct spool_file *, uint64_t, int);

/* Make the read buffer at least n bytes long. */
static int
reserve(struct spool_io *io, size_t n)
{
	uint8_t	*p;

	if (io->bufsz >= n)
		return (0);
	if ((p = realloc(io->buf, n)) == NULL)
		return (-1);
	io->buf = p;
	io->bufsz = n;
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
int
spool_file_take(struct spool_io *io, const char *name, int create)
{
	struct stat	a, b;
	int		fd, tries, saved;

	for (tries = 0; tries < 3; tries++) {
		fd = openat(io->dirfd, name, O_RDWR | O_CLOEXEC |
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
		    fstatat(io->dirfd, name, &b, 0) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return (fd);
		close(fd);
	}
	errno = ENOENT;
	return (-1);
}

/* Write a new file's header and make it and its name durable. */
static int
init_file(struct spool_io *io, struct spool_file *f)
{
	struct timespec	ts;
	uint8_t		h[SPOOL_FILE_HDR_LEN];

	clock_gettime(CLOCK_REALTIME, &ts);
	f->created = (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	spool_rec_put_file_hdr(h, f->created);
	if (ftruncate(f->fd, 0) == -1 ||
	    pwrite(f->fd, h, sizeof h, 0) != (ssize_t)sizeof h ||
	    fdatasync(f->fd) == -1 || fsync(io->dirfd) == -1) {
		log_warn("spool: %s/%s: write", io->dir, f->name);
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
scan(struct spool_io *io, struct spool_file *f, uint64_t limit, int pass)
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
		rc = spool_rec_decode(io->buf + at, have - at, &r);
		if (rc == SPOOL_REC_SHORT && boff + have < limit) {
			/* Keep the part read, read on. */
			memmove(io->buf, io->buf + at, have - at);
			have -= at;
			boff = off;
			if (reserve(io, have + SPOOL_CHUNK) == -1)
				return (-1);
			n = pread(f->fd, io->buf + have, limit - boff - have <
			    SPOOL_CHUNK ? limit - boff - have : SPOOL_CHUNK,
			    boff + have);
			if (n <= 0) {
				if (n == 0)
					errno = EIO;
				log_warn("spool: %s/%s: read", io->dir,
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
struct spool_file *
spool_file_load(struct spool_io *io, const char *name, int fd, int own)
{
	struct spool_file	*f;
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
		log_warn("spool: %s/%s: read", io->dir, name);
		goto fail;
	}
	if ((rc = spool_rec_file_hdr(h, n, &f->created)) == -1) {
		snprintf(bad, sizeof bad, "%s.bad", name);
		log_warnx("spool: %s/%s is not a spool file: renamed to %s",
		    io->dir, name, bad);
		if (renameat(io->dirfd, name, io->dirfd, bad) == -1)
			log_warn("spool: rename %s/%s", io->dir, name);
		else
			errno = EAGAIN;
		goto fail;
	}
	if (rc == 1) {
		/* Made and never written: holds nothing. */
		if (!own)
			goto empty;
		if (init_file(io, f) == -1)
			goto fail;
		return (f);
	}
	if (reserve(io, SPOOL_CHUNK) == -1 ||
	    scan(io, f, sb.st_size, 1) == -1)
		goto fail;
	if (f->end < (uint64_t)sb.st_size) {
		io->torn++;
		io->torn_bytes += sb.st_size - f->end;
		log_warnx("spool: %s/%s: torn tail of %llu bytes at offset "
		    "%llu cut", io->dir, name,
		    (unsigned long long)(sb.st_size - f->end),
		    (unsigned long long)f->end);
		if (ftruncate(fd, f->end) == -1) {
			log_warn("spool: %s/%s: ftruncate", io->dir, name);
			goto fail;
		}
	}
	/* What the last holder wrote is durable from here on. */
	if (fdatasync(fd) == -1) {
		log_warn("spool: %s/%s: fdatasync", io->dir, name);
		goto fail;
	}
	if (scan(io, f, f->end, 2) == -1)
		goto fail;
	if (!own && f->depth == 0)
		goto empty;
	return (f);

empty:
	if (unlinkat(io->dirfd, name, 0) == -1)
		log_warn("spool: unlink %s/%s", io->dir, name);
	errno = 0;
fail:
	close(fd);
	free(f);
	return (NULL);
}

/* Everything in the own file was taken: back to its header alone. */
int
spool_file_truncate(struct spool_io *io, struct spool_file *f)
{
	if (ftruncate(f->fd, SPOOL_FILE_HDR_LEN) == -1) {
		log_warn("spool: %s/%s: ftruncate", io->dir, f->name);
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
int
spool_file_compact(struct spool_io *io, struct spool_file *f)
{
	char		tmp[80];
	uint8_t		h[SPOOL_FILE_HDR_LEN];
	uint64_t	off, len;
	ssize_t		n;
	int		fd;

	snprintf(tmp, sizeof tmp, "%s.tmp", f->name);
	fd = openat(io->dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		log_warn("spool: %s/%s: open", io->dir, tmp);
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1)
		goto fail;
	spool_rec_put_file_hdr(h, f->created);
	if (pwrite(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
		goto fail;
	if (reserve(io, SPOOL_CHUNK) == -1)
		goto fail;
	for (off = f->rd; off < f->end; off += n) {
		len = f->end - off < SPOOL_CHUNK ? f->end - off : SPOOL_CHUNK;
		if ((n = pread(f->fd, io->buf, len, off)) <= 0)
			goto fail;
		if (pwrite(fd, io->buf, n, SPOOL_FILE_HDR_LEN + off - f->rd) !=
		    n)
			goto fail;
	}
	if (fdatasync(fd) == -1 ||
	    renameat(io->dirfd, tmp, io->dirfd, f->name) == -1)
		goto fail;
	if (fsync(io->dirfd) == -1)
		log_warn("spool: %s: fsync", io->dir);
	close(f->fd);
	f->fd = fd;
	f->end = SPOOL_FILE_HDR_LEN + f->end - f->rd;
	f->rd = SPOOL_FILE_HDR_LEN;
	f->acked_disk = f->acked;
	f->peek_size = 0;
	f->dirty = 0;
	io->compactions++;
	return (0);

fail:
	log_warn("spool: %s/%s: compaction", io->dir, f->name);
	unlinkat(io->dirfd, tmp, 0);
	close(fd);
	return (-1);
}

/*
 * Read the DATA record at f->rd into the read buffer, skipping ACKs:
 * 0 and *r, or -1 if it cannot be read back as it was written (the rest
 * of the file is then lost: it is cut and counted as torn).
 */
int
spool_file_read(struct spool_io *io, struct spool_file *f, struct spool_rec *r)
{
	uint8_t		h[SPOOL_REC_HDR_LEN];
	size_t		size;

	while (f->rd < f->end) {
		if (pread(f->fd, h, sizeof h, f->rd) != (ssize_t)sizeof h)
			goto bad;
		spool_rec_peek_hdr(h, r);
		size = r->size;
		if (size > SPOOL_REC_HDR_LEN + SPOOL_REC_MAX ||
		    f->rd + size > f->end || reserve(io, size) == -1 ||
		    pread(f->fd, io->buf, size, f->rd) != (ssize_t)size ||
		    spool_rec_decode(io->buf, size, r) != SPOOL_REC_OK)
			goto bad;
		if (r->type == SPOOL_REC_DATA && r->seq > f->acked)
			return (0);
		f->rd += size;
	}
bad:
	log_warnx("spool: %s/%s: record at offset %llu unreadable: the "
	    "%llu records after it are lost", io->dir, f->name,
	    (unsigned long long)f->rd, (unsigned long long)f->depth);
	io->torn++;
	io->torn_bytes += f->end - f->rd;
	if (ftruncate(f->fd, f->rd) == 0)
		f->end = f->rd;
	f->depth = f->bytes = 0;
	return (-1);
}

/*
 * The record of size bytes at off, read into io->buf and decoded into *r
 * (spool.c's read-ahead): 0, or -1 if it is not one whole valid record.
 * Nothing of f changes.
 */
int
spool_file_pread(struct spool_io *io, struct spool_file *f, uint64_t off,
    size_t size, struct spool_rec *r)
{
	if (reserve(io, size) == -1 ||
	    pread(f->fd, io->buf, size, off) != (ssize_t)size ||
	    spool_rec_decode(io->buf, size, r) != SPOOL_REC_OK ||
	    r->type != SPOOL_REC_DATA)
		return (-1);
	return (0);
}

/* Let go of f; delete it first if unlink (it holds nothing). */
void
spool_file_free(struct spool_io *io, struct spool_file *f, int unlink)
{
	if (unlink && unlinkat(io->dirfd, f->name, 0) == -1)
		log_warn("spool: unlink %s/%s", io->dir, f->name);
	close(f->fd);
	free(f);
}

/*
 * Append a DATA record of len bytes (at most SPOOL_REC_MAX) with one
 * write: 0, its seq is f->next_seq - 1; or -1 and errno, and nothing of
 * it stays in the file.
 */
int
spool_file_append(struct spool_io *io, struct spool_file *f,
    const void *data, size_t len)
{
	struct iovec	iov[2];
	uint8_t		h[SPOOL_REC_HDR_LEN];
	ssize_t		n, size = SPOOL_REC_HDR_LEN + len;
	int		saved;

	spool_rec_put_hdr(h, SPOOL_REC_DATA, f->next_seq, data, len);
	iov[0].iov_base = h;
	iov[0].iov_len = sizeof h;
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = len;
	if ((n = pwritev(f->fd, iov, len > 0 ? 2 : 1, f->end)) != size) {
		if (n >= 0)
			errno = ENOSPC;
		saved = errno;
		log_warn("spool: %s/%s: write", io->dir, f->name);
		if (ftruncate(f->fd, f->end) == -1)
			log_warn("spool: %s/%s: ftruncate", io->dir, f->name);
		errno = saved;
		return (-1);
	}
	f->end += size;
	f->depth++;
	f->bytes += len;
	f->dirty = 1;
	f->next_seq++;
	return (0);
}

/* Write an ACK for what was taken, if it is not on disk yet. */
int
spool_file_put_ack(struct spool_io *io, struct spool_file *f)
{
	uint8_t		h[SPOOL_REC_HDR_LEN];

	if (f->acked <= f->acked_disk)
		return (0);
	spool_rec_put_hdr(h, SPOOL_REC_ACK, f->acked, NULL, 0);
	if (pwrite(f->fd, h, sizeof h, f->end) != sizeof h) {
		log_warn("spool: %s/%s: write", io->dir, f->name);
		if (ftruncate(f->fd, f->end) == -1)
			log_warn("spool: %s/%s: ftruncate", io->dir, f->name);
		return (-1);
	}
	f->end += sizeof h;
	f->acked_disk = f->acked;
	f->dirty = 1;
	return (0);
}

/* fdatasync(2) f if it was written since its last one. */
int
spool_file_sync(struct spool_io *io, struct spool_file *f)
{
	if (!f->dirty)
		return (0);
	io->syncs++;
	if (fdatasync(f->fd) == -1) {
		log_warn("spool: %s/%s: fdatasync", io->dir, f->name);
		return (-1);
	}
	f->dirty = 0;
	return (0);
}

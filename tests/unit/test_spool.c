/*
 * test_spool.c: spool_rec.c (the record format: CRC-32C, round trip,
 * each malformed or short form) and spool.c on real files in a temporary
 * directory: order, restart, a crash before the ACK is synced, torn
 * tails, the size limit, compaction, two handles on one directory, and
 * the batched fsync seen through the durable seq, and the read-ahead.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "spool.h"
#include "spool_rec.h"

static char	 dir[64];
static uint64_t	 cb_seq;
static int	 cb_calls;

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_spool.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return (-1);
	cb_seq = 0;
	cb_calls = 0;
	return (0);
}

static int
teardown(void **state)
{
	struct dirent	*de;
	DIR		*d;
	char		 p[512];

	(void)state;
	if ((d = opendir(dir)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	return (rmdir(dir));
}

static void
durable_cb(void *arg, uint64_t seq)
{
	(void)arg;
	cb_seq = seq;
	cb_calls++;
}

static struct spool *
open_spool(int wid, uint64_t max, unsigned recs, struct ev_loop *loop)
{
	struct spool_conf	c;

	memset(&c, 0, sizeof c);
	c.dir = dir;
	c.wid = wid;
	c.max_bytes = max;
	c.sync_ms = 10;
	c.sync_records = recs;
	c.loop = loop;
	c.durable = durable_cb;
	return (spool_open(&c));
}

/* The oldest record is "m<n>". */
static void
expect(struct spool *s, int n)
{
	const void	*p;
	size_t		 len;
	char		 want[32];

	snprintf(want, sizeof want, "m%d", n);
	assert_int_equal(spool_peek(s, &p, &len), 1);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(p, want, len);
}

static void
put(struct spool *s, int n)
{
	char	m[32];

	snprintf(m, sizeof m, "m%d", n);
	assert_int_equal(spool_append(s, m, strlen(m), NULL), 0);
}

static off_t
file_size(const char *name)
{
	struct stat	sb;
	char		p[512];

	snprintf(p, sizeof p, "%s/%s", dir, name);
	if (stat(p, &sb) == -1)
		return (-1);
	return (sb.st_size);
}

/* The check value of CRC-32C, and a record written and read back. */
static void
test_rec(void **state)
{
	struct spool_rec	r;
	uint8_t			b[64], f[SPOOL_FILE_HDR_LEN];
	uint64_t		t;
	size_t			i;

	(void)state;
	assert_int_equal(spool_rec_crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(spool_rec_crc32c(spool_rec_crc32c(0, "1234", 4),
	    "56789", 5), 0xe3069283);
	spool_rec_put_hdr(b, SPOOL_REC_DATA, 7, "hello", 5);
	memcpy(b + SPOOL_REC_HDR_LEN, "hello", 5);
	assert_int_equal(spool_rec_decode(b, 25, &r), SPOOL_REC_OK);
	assert_int_equal(r.type, SPOOL_REC_DATA);
	assert_int_equal(r.seq, 7);
	assert_int_equal(r.len, 5);
	assert_int_equal(r.size, 25);
	assert_memory_equal(r.body, "hello", 5);
	/* Every prefix is short, never bad; every flipped bit is bad. */
	for (i = 0; i < 25; i++)
		assert_int_equal(spool_rec_decode(b, i, &r), SPOOL_REC_SHORT);
	for (i = 0; i < 25 * 8; i++) {
		b[i / 8] ^= 1 << (i % 8);
		assert_int_not_equal(spool_rec_decode(b, 25, &r),
		    SPOOL_REC_OK);
		b[i / 8] ^= 1 << (i % 8);
	}
	/* An ACK has no body; a length past SPOOL_REC_MAX is bad at once. */
	spool_rec_put_hdr(b, SPOOL_REC_ACK, 9, NULL, 0);
	assert_int_equal(spool_rec_decode(b, 20, &r), SPOOL_REC_OK);
	assert_int_equal(r.type, SPOOL_REC_ACK);
	assert_int_equal(r.seq, 9);
	b[4] = 0x7f;
	assert_int_equal(spool_rec_decode(b, 8, &r), SPOOL_REC_BAD);
	memset(b, 0, sizeof b);
	assert_int_equal(spool_rec_decode(b, 20, &r), SPOOL_REC_BAD);
	/* The file header, and its prefixes from a crash at creation. */
	spool_rec_put_file_hdr(f, 1234567890123ULL);
	assert_int_equal(spool_rec_file_hdr(f, sizeof f, &t), 0);
	assert_int_equal(t, 1234567890123ULL);
	assert_int_equal(spool_rec_file_hdr(f, 0, &t), 1);
	assert_int_equal(spool_rec_file_hdr(f, 5, &t), 1);
	f[2] = 'x';
	assert_int_equal(spool_rec_file_hdr(f, 5, &t), -1);
	assert_int_equal(spool_rec_file_hdr(f, sizeof f, &t), -1);
}

/* Oldest first; peek gives the same record until ack drops it. */
static void
test_order(void **state)
{
	struct spool		*s;
	struct spool_stats	 st;
	const void		*p;
	size_t			 len;
	uint64_t		 seq;
	int			 i;

	(void)state;
	assert_non_null(s = open_spool(0, 0, 1, NULL));
	assert_int_equal(spool_peek(s, &p, &len), 0);
	assert_int_equal(spool_ack(s), -1);
	assert_int_equal(errno, ENOENT);
	for (i = 1; i <= 5; i++) {
		assert_int_equal(spool_append(s, "x", 1, &seq), 0);
		assert_int_equal(seq, i);
	}
	spool_close(s);
	teardown(state);
	setup(state);
	assert_non_null(s = open_spool(0, 0, 1, NULL));
	for (i = 1; i <= 5; i++)
		put(s, i);
	expect(s, 1);
	expect(s, 1);
	spool_stats(s, &st);
	assert_int_equal(st.depth, 5);
	assert_int_equal(st.bytes, 10);
	for (i = 1; i <= 3; i++) {
		expect(s, i);
		assert_int_equal(spool_ack(s), 0);
	}
	put(s, 6);
	for (i = 4; i <= 6; i++) {
		expect(s, i);
		assert_int_equal(spool_ack(s), 0);
	}
	assert_int_equal(spool_peek(s, &p, &len), 0);
	spool_stats(s, &st);
	assert_int_equal(st.depth, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.appended, 6);
	assert_int_equal(st.acked, 6);
	/* ack without a peek drops the oldest all the same. */
	put(s, 7);
	put(s, 8);
	assert_int_equal(spool_ack(s), 0);
	expect(s, 8);
	/* All taken: the file goes back to its header alone. */
	assert_int_equal(spool_ack(s), 0);
	assert_int_equal(spool_sync(s), 0);
	assert_int_equal(file_size("w0-0.spool"), SPOOL_FILE_HDR_LEN);
	spool_close(s);
	/* Empty at close: deleted. */
	assert_int_equal(file_size("w0-0.spool"), -1);
}

/* Close and reopen: what was not taken comes back, what was does not. */
static void
test_restart(void **state)
{
	struct spool		*s;
	struct spool_stats	 st;
	const void		*p;
	size_t			 len;
	uint64_t		 seq;
	int			 i;

	(void)state;
	assert_non_null(s = open_spool(3, 0, 1, NULL));
	for (i = 1; i <= 5; i++)
		put(s, i);
	expect(s, 1);
	assert_int_equal(spool_ack(s), 0);
	assert_int_equal(spool_ack(s), 0);
	spool_close(s);
	assert_true(file_size("w3-0.spool") > SPOOL_FILE_HDR_LEN);

	assert_non_null(s = open_spool(3, 0, 1, NULL));
	spool_stats(s, &st);
	assert_int_equal(st.depth, 3);
	assert_int_equal(st.torn, 0);
	/* The seqs go on from the last one in the file. */
	assert_int_equal(spool_append(s, "m6", 2, &seq), 0);
	assert_int_equal(seq, 6);
	expect(s, 3);
	assert_int_equal(spool_ack(s), 0);
	spool_close(s);

	/* The cursor survives again, with two ACKs in the file now. */
	assert_non_null(s = open_spool(3, 0, 1, NULL));
	for (i = 4; i <= 6; i++) {
		expect(s, i);
		assert_int_equal(spool_ack(s), 0);
	}
	assert_int_equal(spool_peek(s, &p, &len), 0);
	spool_close(s);
	assert_int_equal(file_size("w3-0.spool"), -1);
}

/*
 * A process that dies (no close, no sync) after its appends and acks:
 * every append is there (one write each), and the acks not synced yet
 * replay their records again: at least once, never lost.
 */
static void
test_crash(void **state)
{
	struct spool		*s;
	struct spool_stats	 st;
	pid_t			 pid;
	int			 i, status;

	(void)state;
	if ((pid = fork()) == 0) {
		if ((s = open_spool(1, 0, 1000, NULL)) == NULL)
			_exit(1);
		for (i = 1; i <= 4; i++)
			put(s, i);
		spool_ack(s);
		spool_sync(s);		/* m1's ACK is on disk */
		spool_ack(s);		/* m2's is not */
		put(s, 5);		/* written, not synced */
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	assert_non_null(s = open_spool(1, 0, 1, NULL));
	spool_stats(s, &st);
	assert_int_equal(st.depth, 4);
	for (i = 2; i <= 5; i++) {
		expect(s, i);
		assert_int_equal(spool_ack(s), 0);
	}
	spool_close(s);
}

/* Append raw bytes to a spool file, or cut it at size. */
static void
damage(const char *name, const void *junk, size_t len, off_t size)
{
	char	p[512];
	int	fd;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	assert_true((fd = open(p, O_WRONLY | O_APPEND)) != -1);
	if (junk != NULL)
		assert_int_equal(write(fd, junk, len), (ssize_t)len);
	else
		assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

/* A torn tail is cut and counted, and appends go on after it. */
static void
test_torn(void **state)
{
	struct spool		*s;
	struct spool_stats	 st;
	const void		*p;
	size_t			 len;
	uint8_t			 h[SPOOL_REC_HDR_LEN];
	off_t			 full;
	char			 pth[512];
	int			 i, fd;

	(void)state;
	assert_non_null(s = open_spool(0, 0, 1, NULL));
	for (i = 1; i <= 3; i++)
		put(s, i);
	spool_close(s);
	full = file_size("w0-0.spool");

	/* A record cut in its middle (a crash during the write). */
	damage("w0-0.spool", NULL, 0, full - 1);
	assert_non_null(s = open_spool(0, 0, 1, NULL));
	spool_stats(s, &st);
	assert_int_equal(st.depth, 2);
	assert_int_equal(st.torn, 1);
	assert_int_equal(st.torn_bytes, SPOOL_REC_HDR_LEN + 1);
	assert_int_equal(file_size("w0-0.spool"), full - 22);
	put(s, 3);
	spool_close(s);
	assert_int_equal(file_size("w0-0.spool"), full);

	/* Garbage after the last record, and a header without its body. */
	damage("w0-0.spool", "\x01\x00\x00\x00garbage garbage garbage", 27,
	    0);
	assert_non_null(s = open_spool(0, 0, 1, NULL));
	spool_stats(s, &st);
	assert_int_equal(st.depth, 3);
	assert_int_equal(st.torn, 1);
	assert_int_equal(st.torn_bytes, 27);
	spool_close(s);
	spool_rec_put_hdr(h, SPOOL_REC_DATA, 4, "m4", 2);
	damage("w0-0.spool", h, sizeof h, 0);
	/* A whole record whose seq does not follow ends the file too. */
	assert_non_null(s = open_spool(0, 0, 1, NULL));
	spool_stats(s, &st);
	assert_int_equal(st.torn, 1);
	assert_int_equal(st.torn_bytes, SPOOL_REC_HDR_LEN);
	spool_close(s);
	spool_rec_put_hdr(h, SPOOL_REC_DATA, 9, "m9", 2);
	damage("w0-0.spool", h, sizeof h, 0);
	damage("w0-0.spool", "m9", 2, 0);
	assert_non_null(s = open_spool(0, 0, 1, NULL));
	spool_stats(s, &st);
	assert_int_equal(st.torn, 1);
	assert_int_equal(st.depth, 3);
	for (i = 1; i <= 3; i++) {
		expect(s, i);
		assert_int_equal(spool_ack(s), 0);
	}
	assert_int_equal(spool_peek(s, &p, &len), 0);
	spool_close(s);

	/* Not a spool file at all: moved aside, a new one made. */
	assert_int_equal(file_size("w0-0.spool"), -1);
	snprintf(pth, sizeof pth, "%s/w0-0.spool", dir);
	assert_true((fd = open(pth, O_WRONLY | O_CREAT, 0600)) != -1);
	assert_int_equal(write(fd, "not a spool file", 16), 16);
	close(fd);
	assert_non_null(s = open_spool(0, 0, 1, NULL));
	spool_stats(s, &st);
	assert_int_equal(st.depth, 0);
	assert_int_equal(file_size("w0-0.spool.bad"), 16);
	spool_close(s);
}

/* Past max_bytes an append fails with EFBIG, counted; taken records
 * make room again. */
static void
test_limit(void **state)
{
	struct spool		*s;
	struct spool_stats	 st;
	char			 m[100];
	int			 i;

	(void)state;
	memset(m, 'a', sizeof m);
	/* Room for 3 records of 120 bytes and one of 21 after the header. */
	assert_non_null(s = open_spool(0, 16 + 3 * 120 + 21, 1, NULL));
	for (i = 0; i < 3; i++)
		assert_int_equal(spool_append(s, m, sizeof m, NULL), 0);
	assert_int_equal(spool_append(s, m, sizeof m, NULL), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(spool_append(s, m, 1, NULL), 0);
	spool_stats(s, &st);
	assert_int_equal(st.refused, 1);
	assert_int_equal(st.depth, 4);
	assert_int_equal(spool_append(s, m, SPOOL_REC_MAX + 1, NULL), -1);
	assert_int_equal(errno, EMSGSIZE);
	/* Two taken: their room comes back by compaction. */
	assert_int_equal(spool_ack(s), 0);
	assert_int_equal(spool_ack(s), 0);
	assert_int_equal(spool_append(s, m, sizeof m, NULL), 0);
	spool_stats(s, &st);
	assert_int_equal(st.compactions, 1);
	assert_int_equal(st.depth, 3);
	assert_int_equal(st.file_bytes, 16 + 120 + 21 + 120);
	assert_int_equal(spool_append(s, m, sizeof m, NULL), 0);
	assert_int_equal(spool_append(s, m, 1, NULL), -1);
	assert_int_equal(errno, EFBIG);
	spool_close(s);
	assert_non_null(s = open_spool(0, 16 + 3 * 120 + 21, 1, NULL));
	spool_stats(s, &st);
	assert_int_equal(st.depth, 4);
	assert_int_equal(st.bytes, 301);
	assert_int_equal(st.refused, 0);
	spool_close(s);
}

/* A large taken prefix is compacted at a sync; the rest survives. */
static void
test_compact(void **state)
{
	struct spool		*s;
	struct spool_stats	 st;
	char			 m[32];
	int			 i;

	(void)state;
	assert_non_null(s = open_spool(0, 0, 1000, NULL));
	for (i = 1; i <= 10000; i++)
		put(s, i);
	for (i = 1; i <= 9000; i++)
		assert_int_equal(spool_ack(s), 0);
	assert_int_equal(spool_sync(s), 0);
	spool_stats(s, &st);
	assert_int_equal(st.compactions, 1);
	assert_int_equal(st.depth, 1000);
	snprintf(m, sizeof m, "w0-0.spool");
	assert_int_equal(file_size(m), (off_t)st.file_bytes);
	assert_true(st.file_bytes < 30000);
	expect(s, 9001);
	spool_close(s);
	assert_non_null(s = open_spool(0, 0, 1, NULL));
	for (i = 9001; i <= 10000; i++) {
		expect(s, i);
		assert_int_equal(spool_ack(s), 0);
	}
	spool_close(s);
}

/*
 * Two handles of one worker id: the second gets a file of its own (the
 * lock), and takes the first one's over once that one is gone; a file
 * of a worker id still in use is not taken, of one past the count is.
 */
static void
test_two_handles(void **state)
{
	struct spool		*a, *b, *c;
	struct spool_stats	 st;
	const void		*p;
	size_t			 len;

	(void)state;
	assert_non_null(a = open_spool(2, 0, 1, NULL));
	assert_non_null(b = open_spool(2, 0, 1, NULL));
	assert_true(file_size("w2-0.spool") >= 0);
	assert_true(file_size("w2-1.spool") >= 0);
	put(a, 1);
	put(a, 2);
	put(b, 3);
	assert_int_equal(spool_adopt(b, 0), 0);
	spool_stats(b, &st);
	assert_int_equal(st.depth, 1);
	assert_int_equal(st.files, 1);
	spool_close(a);
	/* a's file is older: it is replayed first. */
	assert_int_equal(spool_adopt(b, 8), 1);
	spool_stats(b, &st);
	assert_int_equal(st.depth, 3);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.adopted, 1);
	expect(b, 1);
	assert_int_equal(spool_ack(b), 0);
	expect(b, 2);
	assert_int_equal(spool_ack(b), 0);
	/* All of it taken: deleted. */
	assert_int_equal(file_size("w2-0.spool"), -1);
	expect(b, 3);

	/* Worker 5 of 8 is alive in spirit: its file stays; 9 of 8 goes. */
	assert_non_null(c = open_spool(5, 0, 1, NULL));
	put(c, 50);
	spool_close(c);
	assert_non_null(c = open_spool(9, 0, 1, NULL));
	put(c, 90);
	spool_close(c);
	assert_int_equal(spool_adopt(b, 8), 1);
	spool_stats(b, &st);
	assert_int_equal(st.depth, 2);
	assert_int_equal(file_size("w5-0.spool") > 0, 1);
	spool_close(b);

	/* A restarted worker 5 takes its own file back at open. */
	assert_non_null(c = open_spool(5, 0, 1, NULL));
	expect(c, 50);
	assert_int_equal(spool_ack(c), 0);
	assert_int_equal(spool_peek(c, &p, &len), 0);
	spool_close(c);
	/*
	 * A restarted worker 2 takes w2-1 (m3) back; the w9 file it had
	 * taken over is free again but waits for a spool_adopt().
	 */
	assert_non_null(b = open_spool(2, 0, 1, NULL));
	spool_stats(b, &st);
	assert_int_equal(st.depth, 1);
	expect(b, 3);
	assert_int_equal(spool_adopt(b, 8), 1);
	spool_stats(b, &st);
	assert_int_equal(st.depth, 2);
	spool_close(b);
}

/* The n-th record not taken is "m<want>". */
static void
expect_nth(struct spool *s, uint64_t n, int want)
{
	const void	*p;
	size_t		 len;
	char		 m[32];

	snprintf(m, sizeof m, "m%d", want);
	assert_int_equal(spool_peek_nth(s, n, &p, &len), 1);
	assert_int_equal(len, strlen(m));
	assert_memory_equal(p, m, len);
}

/*
 * spool_peek_nth() reads ahead without taking: across acks (and the ACK
 * records a sync writes), across a compaction that moves every offset,
 * across two files, and after a taken-over file is dropped.
 */
static void
test_peek_nth(void **state)
{
	struct spool		*a, *b;
	struct spool_stats	 st;
	const void		*p;
	size_t			 len;
	int			 i;

	(void)state;
	assert_non_null(b = open_spool(0, 0, 1000, NULL));
	assert_int_equal(spool_peek_nth(b, 0, &p, &len), 0);
	for (i = 1; i <= 5; i++)
		put(b, i);
	for (i = 0; i < 5; i++)
		expect_nth(b, i, i + 1);
	assert_int_equal(spool_peek_nth(b, 5, &p, &len), 0);
	/* Reading ahead takes nothing; the head is still m1. */
	expect(b, 1);
	assert_int_equal(spool_ack(b), 0);
	assert_int_equal(spool_ack(b), 0);
	assert_int_equal(spool_sync(b), 0);	/* an ACK record follows */
	put(b, 6);
	expect_nth(b, 0, 3);
	expect_nth(b, 3, 6);
	assert_int_equal(spool_peek_nth(b, 4, &p, &len), 0);
	/* Read ahead, then ack: the same n now names a later record. */
	expect_nth(b, 1, 4);
	assert_int_equal(spool_ack(b), 0);
	expect_nth(b, 1, 5);
	expect(b, 4);
	while (spool_ack(b) == 0)
		;
	spool_close(b);

	/* A compaction moves the records to a new file. */
	assert_non_null(b = open_spool(0, 0, 1000, NULL));
	for (i = 1; i <= 10000; i++)
		put(b, i);
	expect_nth(b, 9000, 9001);
	for (i = 1; i <= 9000; i++)
		assert_int_equal(spool_ack(b), 0);
	assert_int_equal(spool_sync(b), 0);
	spool_stats(b, &st);
	assert_int_equal(st.compactions, 1);
	expect_nth(b, 0, 9001);
	expect_nth(b, 999, 10000);
	assert_int_equal(spool_peek_nth(b, 1000, &p, &len), 0);
	for (i = 1; i <= 500; i++)
		assert_int_equal(spool_ack(b), 0);
	expect_nth(b, 0, 9501);
	expect_nth(b, 499, 10000);
	while (spool_ack(b) == 0)
		;
	spool_close(b);

	/* Two files: a gone worker's (older) first, then the own one. */
	assert_non_null(a = open_spool(3, 0, 1, NULL));
	put(a, 1);
	put(a, 2);
	assert_non_null(b = open_spool(3, 0, 1, NULL));
	put(b, 3);
	put(b, 4);
	spool_close(a);
	assert_int_equal(spool_adopt(b, 8), 1);
	expect_nth(b, 0, 1);
	expect_nth(b, 1, 2);
	expect_nth(b, 2, 3);
	expect_nth(b, 3, 4);
	assert_int_equal(spool_peek_nth(b, 4, &p, &len), 0);
	assert_int_equal(spool_ack(b), 0);
	expect_nth(b, 1, 3);
	/* The taken-over file goes with its last record. */
	assert_int_equal(spool_ack(b), 0);
	assert_int_equal(file_size("w3-0.spool"), -1);
	spool_stats(b, &st);
	assert_int_equal(st.files, 1);
	expect_nth(b, 0, 3);
	expect_nth(b, 1, 4);
	assert_int_equal(spool_peek_nth(b, 2, &p, &len), 0);
	spool_close(b);
}

/* The fsync comes every sync_records appends, or sync_ms after one. */
static void
test_batch(void **state)
{
	struct spool		*s;
	struct spool_stats	 st;
	struct ev_loop		*loop;
	uint64_t		 seq;

	(void)state;
	assert_non_null(s = open_spool(0, 0, 3, NULL));
	assert_int_equal(spool_durable(s), 0);
	put(s, 1);
	put(s, 2);
	assert_int_equal(spool_durable(s), 0);
	assert_int_equal(cb_calls, 0);
	put(s, 3);
	assert_int_equal(spool_durable(s), 3);
	assert_int_equal(cb_calls, 1);
	assert_int_equal(cb_seq, 3);
	put(s, 4);
	assert_int_equal(spool_durable(s), 3);
	spool_stats(s, &st);
	assert_int_equal(st.syncs, 1);
	assert_int_equal(spool_sync(s), 0);
	assert_int_equal(spool_durable(s), 4);
	assert_int_equal(cb_seq, 4);
	spool_close(s);

	/* With a loop: 100 appends wait 10 ms for one fsync. */
	assert_non_null(loop = ev_loop_new(EVFLAG_AUTO));
	cb_calls = 0;
	assert_non_null(s = open_spool(7, 0, 1000, loop));
	for (seq = 1; seq <= 100; seq++)
		put(s, seq);
	assert_int_equal(spool_durable(s), 0);
	ev_run(loop, 0);	/* returns once the timer has run */
	assert_int_equal(spool_durable(s), 100);
	assert_int_equal(cb_calls, 1);
	spool_stats(s, &st);
	assert_int_equal(st.syncs, 1);
	/* An ack arms it too: its ACK is written at the sync. */
	assert_int_equal(spool_ack(s), 0);
	ev_run(loop, 0);
	spool_stats(s, &st);
	assert_int_equal(st.syncs, 2);
	assert_int_equal(file_size("w7-0.spool"), (off_t)st.file_bytes);
	spool_close(s);
	ev_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rec),
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_handles, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peek_nth, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

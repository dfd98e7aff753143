/*
 * libFuzzer harness for presence.c.  If the first byte is even, the rest
 * is a digest part applied from the worker its header names (worker 0,
 * this table itself, stands for worker 1) to a table that already knows
 * a few users.  Checked, beyond memory safety:
 *  - presence_apply_digest() accepts exactly what an independent decoder
 *    written here from presence.h accepts;
 *  - a refused part leaves the table exactly as it was;
 *  - after an accepted part every listed user has that many sockets on
 *    that worker, and after a whole digest (last part 0) nothing else of
 *    that worker remains.
 * If the first byte is 2 mod 4, the rest is a presence summary: decoded,
 * it encodes back to the same bytes and a table checks it sanely.
 * If the first byte is odd, each further byte is an operation (add, del,
 * remote add and del, drop a worker, send a digest to a mirror) on users
 * u0..u7 and workers 0..3, checked against a plain count matrix.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "presence.h"
#include "presence_digest.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct entry {
	uint32_t	 count;
	char		 name[PRESENCE_USER_MAX + 1];
};

/* Order-independent fingerprint of a table. */
struct fp {
	const struct presence	*p;
	uint64_t		 sum;
	size_t			 n;
};

static void
fp_cb(void *arg, const char *user)
{
	struct fp	*f = arg;
	uint64_t	 h = 1469598103934665603ULL;
	const char	*s;

	for (s = user; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h ^= presence_total_count(f->p, user) * 0x9e3779b97f4a7c15ULL;
	h ^= (uint64_t)presence_local_count(f->p, user) << 40;
	f->sum += h * 0xbf58476d1ce4e5b9ULL;
	f->n++;
}

static struct fp
fingerprint(const struct presence *p)
{
	struct fp	f = { p, 0, 0 };

	presence_list(p, fp_cb, &f);
	return (f);
}

/* Strict UTF-8 (no overlongs, surrogates, or above U+10FFFF). */
static int
utf8_ok(const uint8_t *s, size_t n)
{
	size_t	i = 0, k, len;
	uint32_t cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			len = 2, cp = s[i] & 0x1f, min = 0x80;
		else if ((s[i] & 0xf0) == 0xe0)
			len = 3, cp = s[i] & 0x0f, min = 0x800;
		else if ((s[i] & 0xf8) == 0xf0)
			len = 4, cp = s[i] & 0x07, min = 0x10000;
		else
			return (0);
		if (i + len > n)
			return (0);
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (0);
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
			return (0);
		i += len;
	}
	return (1);
}

/* The decoder of presence.h, written again: number of entries or -1. */
static long
decode(const uint8_t *d, size_t len, struct entry *e, size_t max)
{
	size_t		off = 14, i, k, n;
	uint64_t	v;

	if (len < 14 || d[0] != 1 || (d[1] & ~1) != 0 ||
	    ((d[2] << 8) | d[3]) > 4095)
		return (-1);
	n = (size_t)d[10] << 24 | (size_t)d[11] << 16 | (size_t)d[12] << 8 |
	    d[13];
	for (i = 0; i < n; i++) {
		v = 0;
		for (k = 0; ; k++) {
			if (off >= len || k == 5)
				return (-1);
			v |= (uint64_t)(d[off] & 0x7f) << (7 * k);
			if ((d[off++] & 0x80) == 0)
				break;
		}
		if (v == 0 || v > UINT32_MAX || (k > 0 && d[off - 1] == 0))
			return (-1);
		if (off >= len || d[off] == 0 || d[off] > 128 ||
		    off + 1 + d[off] > len)
			return (-1);
		if (memchr(d + off + 1, 0, d[off]) != NULL ||
		    !utf8_ok(d + off + 1, d[off]))
			return (-1);
		if (i < max) {
			e[i].count = (uint32_t)v;
			memcpy(e[i].name, d + off + 1, d[off]);
			e[i].name[d[off]] = '\0';
		}
		off += 1 + (size_t)d[off];
	}
	return (off == len ? (long)n : -1);
}

static void
run_digest(const uint8_t *d, size_t len)
{
	static struct entry	 e[4096];
	struct presence		*p;
	struct fp		 before, after;
	unsigned		 wid;
	long			 n, i, j;
	int			 rc;

	p = presence_new(0, 1);
	presence_local_add(p, "alice");
	presence_local_add(p, "alice");
	presence_remote_add(p, 1, "bob");
	presence_remote_add(p, 1, "alice");
	presence_remote_add(p, 2, "carol");
	presence_remote_add(p, 1, "dave");
	presence_remote_add(p, 2, "dave");
	wid = len >= 4 ? (unsigned)(d[2] << 8 | d[3]) : 1;
	if (wid == 0 || wid > PRESENCE_WID_MAX)
		wid = 1;
	before = fingerprint(p);
	rc = presence_apply_digest(p, wid, d, len, NULL, NULL, NULL);
	n = decode(d, len, e, sizeof(e) / sizeof(e[0]));
	if (n >= 0 && ((d[2] << 8) | d[3]) != (int)wid)
		n = -1;		/* the header names worker 0 */
	if ((rc == 0) != (n >= 0))
		abort();
	if (rc != 0) {
		after = fingerprint(p);
		if (after.sum != before.sum || after.n != before.n)
			abort();
	} else if (n <= (long)(sizeof(e) / sizeof(e[0]))) {
		/* The last count listed for a name is the one that holds. */
		for (i = 0; i < n; i++) {
			for (j = i + 1; j < n; j++) {
				if (strcmp(e[i].name, e[j].name) == 0)
					break;
			}
			if (j < n)
				continue;
			if (presence_total_count(p, e[i].name) < e[i].count)
				abort();
		}
		if (d[1] == 1 && d[8] == 0 && d[9] == 0 && wid == 1) {
			/* bob and dave on 1 only if listed; carol stays. */
			if (!presence_online(p, "carol") ||
			    presence_local_count(p, "alice") != 2 ||
			    !presence_online(p, "dave"))
				abort();
			for (i = 0; i < n; i++) {
				if (strcmp(e[i].name, "bob") == 0)
					break;
			}
			if ((i < n) != presence_online(p, "bob"))
				abort();
		}
	}
	presence_free(p);
}

/* Operations against a count matrix: users u0..u7, workers 0..3. */
static void
run_ops(const uint8_t *d, size_t len)
{
	struct presence			*p, *mirror;
	struct presence_digest_cursor	 c;
	uint32_t			 m[8][4];
	uint8_t				 buf[PRESENCE_DIGEST_MIN];
	char				 name[4];
	unsigned			 op, u, w, i, k, total, gone;
	size_t				 n, blen;
	int				 rc, want;

	memset(m, 0, sizeof(m));
	p = presence_new(0, 2);
	mirror = presence_new(3, 3);
	for (k = 0; k < len; k++) {
		op = d[k] >> 5;
		u = (d[k] >> 2) & 7;
		w = d[k] & 3;
		snprintf(name, sizeof(name), "u%u", u);
		for (total = 0, i = 0; i < 4; i++)
			total += m[u][i];
		switch (op) {
		case 0:
		case 1:
			rc = presence_local_add(p, name);
			if (rc != (total == 0 ? PRESENCE_ONLINE : 0))
				abort();
			m[u][0]++;
			break;
		case 2:
			rc = presence_local_del(p, name);
			want = m[u][0] == 0 ? -1 : total == 1 ?
			    PRESENCE_OFFLINE : 0;
			if (rc != want)
				abort();
			if (m[u][0] > 0)
				m[u][0]--;
			break;
		case 3:
		case 4:
			rc = presence_remote_add(p, w, name);
			want = w == 0 ? -1 : total == 0 ? PRESENCE_ONLINE : 0;
			if (rc != want)
				abort();
			if (w != 0)
				m[u][w]++;
			break;
		case 5:
			rc = presence_remote_del(p, w, name);
			want = w == 0 ? -1 : m[u][w] == 0 ? 0 : total == 1 ?
			    PRESENCE_OFFLINE : 0;
			if (rc != want)
				abort();
			if (w != 0 && m[u][w] > 0)
				m[u][w]--;
			break;
		case 6:
			rc = presence_drop_worker(p, w, NULL, NULL);
			if (w == 0) {
				if (rc != -1)
					abort();
				break;
			}
			for (gone = 0, i = 0; i < 8; i++) {
				if (m[i][w] != 0 && m[i][0] + m[i][1] +
				    m[i][2] + m[i][3] == m[i][w])
					gone++;
				m[i][w] = 0;
			}
			if ((unsigned)rc != gone)
				abort();
			break;
		default:
			/* Digest of p (worker 0) to the mirror, tiny parts. */
			presence_digest_begin(p, &c);
			do {
				rc = presence_digest(p, &c, buf, sizeof(buf),
				    &blen);
				if (rc < 0 || presence_apply_digest(mirror, 0,
				    buf, blen, NULL, NULL, NULL) != 0)
					abort();
			} while (rc == 1);
			for (i = 0; i < 8; i++) {
				snprintf(name, sizeof(name), "u%u", i);
				if (presence_total_count(mirror, name) !=
				    m[i][0])
					abort();
			}
			break;
		}
		/* The user touched, every user after a drop and at the end. */
		for (n = 0, i = 0; i < 8; i++) {
			total = m[i][0] + m[i][1] + m[i][2] + m[i][3];
			n += total > 0;
			if (i != u && op != 6 && k + 1 != len)
				continue;
			snprintf(name, sizeof(name), "u%u", i);
			if (presence_total_count(p, name) != total ||
			    presence_local_count(p, name) != m[i][0])
				abort();
		}
		if (presence_count(p) != n)
			abort();
	}
	presence_free(p);
	presence_free(mirror);
}

/*
 * A summary (first byte 2 mod 4): what presence_summary_decode() accepts
 * encodes back to the same bytes, and a table checks it without harm.
 */
static void
run_summary(const uint8_t *d, size_t len)
{
	struct presence_summary_msg	 m;
	uint8_t				 out[PRESENCE_SUMMARY_MAX];
	struct presence			*p;
	uint16_t			 asks[PRESENCE_SUMMARY_ASKS];

	if (presence_summary_decode(d, len, &m) != 0)
		return;
	if (m.nasks > PRESENCE_SUMMARY_ASKS ||
	    presence_summary_encode(out, &m) != len ||
	    memcmp(out, d, len) != 0)
		abort();
	if ((p = presence_new(0, 1)) == NULL)
		return;
	if (presence_check_summary(p, m.wid, &m.sum) ==
	    (m.wid == 0 ? -1 : m.sum.hash == 0 && m.sum.sockets == 0 ? 0 : 1))
		;
	else
		abort();
	if (presence_asks(p, asks, PRESENCE_SUMMARY_ASKS) !=
	    (m.wid != 0 && (m.sum.hash != 0 || m.sum.sockets != 0)))
		abort();
	presence_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return (0);
	if (data[0] & 1)
		run_ops(data + 1, size - 1);
	else if (data[0] & 2)
		run_summary(data + 1, size - 1);
	else
		run_digest(data + 1, size - 1);
	return (0);
}

/*
 * libFuzzer harness for recwire.c: the ask and the answer of a recovery
 * across hosts, as they come from Redis (anybody who can publish there).
 * Checked, beyond memory safety and leaks:
 *  - a decoded ask has a uid of 1..RECWIRE_UID_MAX bytes, a pid and an
 *    offset of exactly their lengths, a user of 1..RECWIRE_USER_MAX, all
 *    NUL-terminated with no NUL inside;
 *  - a decoded answer's reason is -1..63; when -1, its sid is a sid, its
 *    rooms fit a slot's bytes as non-empty names, and each frame is a text
 *    EVENT "42[...]" of at most the bound given;
 *  - an answer re-encoded from what was decoded decodes to the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recwire.h"
#include "sid.h"

#define FRAME_MAX	4096

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_ask(const char *p, size_t n)
{
	struct recwire_ask	a;
	size_t			l;

	if (recwire_ask_decode(p, n, &a) != 0)
		return;
	l = strnlen(a.uid, sizeof(a.uid));
	if (l == 0 || l > RECWIRE_UID_MAX ||
	    strnlen(a.pid, sizeof(a.pid)) != RECLOG_PID_LEN ||
	    strnlen(a.off, sizeof(a.off)) != RECLOG_OFF_LEN ||
	    (l = strnlen(a.user, sizeof(a.user))) == 0 ||
	    l > RECWIRE_USER_MAX)
		abort();
}

static void
same(const struct recwire_ans *x, const struct recwire_ans *y)
{
	size_t	i;

	if (x->id != y->id || x->why != y->why || strcmp(x->sid, y->sid) !=
	    0 || x->rooms_len != y->rooms_len || memcmp(x->rooms, y->rooms,
	    x->rooms_len) != 0 || x->n != y->n)
		abort();
	for (i = 0; i < x->n; i++)
		if (x->flen[i] != y->flen[i] ||
		    memcmp(x->f[i], y->f[i], x->flen[i]) != 0)
			abort();
}

static void
check_ans(const char *p, size_t n)
{
	struct recwire_ans	a, b;
	size_t			i, at = 0, k, len;
	char			*t;

	if (recwire_ans_decode(p, n, FRAME_MAX, &a) != 0) {
		if (a.n != 0 || a.f != NULL)
			abort();
		return;
	}
	if (a.why < -1 || a.why > 63)
		abort();
	if (a.why == -1) {
		if (!sid_valid(a.sid, strlen(a.sid)) ||
		    a.rooms_len > sizeof(a.rooms))
			abort();
		while (at < a.rooms_len) {
			if ((k = strnlen(a.rooms + at, a.rooms_len - at)) == 0 ||
			    at + k >= a.rooms_len)
				abort();
			at += k + 1;
		}
		for (i = 0; i < a.n; i++)
			if (a.flen[i] < 4 || a.flen[i] > FRAME_MAX ||
			    memcmp(a.f[i], "42[", 3) != 0 ||
			    a.f[i][a.flen[i] - 1] != ']')
				abort();
	}
	t = recwire_ans_encode(a.id, a.why, a.sid, a.rooms, a.rooms_len, a.f,
	    a.flen, a.n, &len);
	if (t != NULL) {
		if (recwire_ans_decode(t, len, FRAME_MAX, &b) != 0)
			abort();
		same(&a, &b);
		recwire_ans_free(&b);
		free(t);
	}
	recwire_ans_free(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_ask((const char *)data, size);
	check_ans((const char *)data, size);
	return 0;
}

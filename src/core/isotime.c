/*
 * isotime.c: times as ISO 8601 UTC with milliseconds, as JavaScript's
 * toISOString() writes them ("2026-12-07T00:24:46.542Z"): in the seed's
 * payloads (created_at, read_at), the log's "time" and the status pages'
 * "timestamp".  One formatter, no gmtime() and no time zone.
 */
#include <stdint.h>
#include <time.h>

#include "isotime.h"

/* Milliseconds since the epoch, from the real-time clock. */
int64_t
isotime_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes v as n decimal digits, zero-padded; returns the end. */
static char *
digits(char *p, unsigned v, int n)
{
	int	i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return (p + n);
}

/*
 * ISO 8601 UTC with milliseconds, as JavaScript's toISOString(), for
 * 1970..9999: buf gets ISOTIME_SIZE bytes.  Civil date from days after
 * Howard Hinnant's days_from_civil inverse: no gmtime(), no time zone.
 */
int
isotime_format(int64_t ms, char *buf)
{
	int64_t		 days, secs, y;
	unsigned	 doe, yoe, doy, mp, m, d;
	char		*p;

	if (ms < 0 || ms > INT64_C(253402300799999))
		return (-1);
	days = ms / 86400000;
	secs = (ms % 86400000) / 1000;
	days += 719468;
	doe = (unsigned)(days % 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + days / 146097 * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	p = digits(buf, (unsigned)y, 4);
	*p++ = '-';
	p = digits(p, m, 2);
	*p++ = '-';
	p = digits(p, d, 2);
	*p++ = 'T';
	p = digits(p, (unsigned)(secs / 3600), 2);
	*p++ = ':';
	p = digits(p, (unsigned)(secs / 60 % 60), 2);
	*p++ = ':';
	p = digits(p, (unsigned)(secs % 60), 2);
	*p++ = '.';
	p = digits(p, (unsigned)(ms % 1000), 3);
	*p++ = 'Z';
	*p = '\0';
	return (0);
}

/* Now, formatted. */
void
isotime_now(char *buf)
{
	if (isotime_format(isotime_now_ms(), buf) != 0)
		buf[0] = '\0';
}

/*
 * One JSON object per line on stderr.  A line is built in one buffer and
 * written with a single write(2), so lines from the master and the workers,
 * which share stderr, never interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "isotime.h"
#include "log.h"

#define LOG_LINE_MAX	4096

static enum log_level	 log_level = LOG_LEVEL_INFO;
static const char	*log_role = "main";
static int		 log_worker = -1;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static void	vlog(enum log_level, const struct logf *, int, const char *,
		    va_list) LOG_PRINTF(4, 0);

void
log_init(enum log_level level)
{
	log_level = level;
}

/* Name the process in every line it writes: "master", or "worker" and id. */
void
log_procinit(const char *role, int worker)
{
	log_role = role;
	log_worker = worker;
}

void
log_setlevel(enum log_level level)
{
	log_level = level;
}

enum log_level
log_getlevel(void)
{
	return log_level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t	i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = LOG_LEVEL_WARN;
		return 0;
	}
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return level_names[level];
}

/*
 * Escape len bytes of s as the inside of a JSON string.  Control bytes and
 * bytes >= 0x80 that are not part of valid UTF-8 are written as \u00XX, so
 * no client input can forge a line or break the object.  Returns the length
 * written, truncating at a character boundary when out is too small.
 */
size_t
log_json_escape(char *out, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t	 i, o = 0, need;
	char	 tmp[7];
	unsigned char c;

	if (cap == 0)
		return 0;
	for (i = 0; i < len; i++) {
		c = p[i];
		need = 1;
		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			need = 2;
		} else if (c == '\n') {
			memcpy(tmp, "\\n", need = 2);
		} else if (c == '\t') {
			memcpy(tmp, "\\t", need = 2);
		} else if (c < 0x20 || c == 0x7f || c >= 0x80) {
			memcpy(tmp, "\\u00", 4);
			tmp[4] = hex[c >> 4];
			tmp[5] = hex[c & 0xf];
			need = 6;
		} else
			tmp[0] = (char)c;
		if (o + need >= cap)
			break;
		memcpy(out + o, tmp, need);
		o += need;
	}
	out[o] = '\0';
	return o;
}

/* Append "key":"value" to a line's extra fields. */
void
logf_str(struct logf *f, const char *key, const char *val)
{
	size_t	 room;
	int	 n;

	room = sizeof(f->buf) - f->len;
	n = snprintf(f->buf + f->len, room, ",\"%s\":\"", key);
	if (n < 0 || (size_t)n + 2 >= room)
		return;
	f->len += (size_t)n;
	f->len += log_json_escape(f->buf + f->len, sizeof(f->buf) - f->len - 1,
	    val == NULL ? "" : val, val == NULL ? 0 : strlen(val));
	f->buf[f->len++] = '"';
	f->buf[f->len] = '\0';
}

/* Append "key":number to a line's extra fields. */
void
logf_int(struct logf *f, const char *key, long long val)
{
	size_t	 room;
	int	 n;

	room = sizeof(f->buf) - f->len;
	n = snprintf(f->buf + f->len, room, ",\"%s\":%lld", key, val);
	if (n > 0 && (size_t)n < room)
		f->len += (size_t)n;
}

/* Build one line and write it at once; errnum >= 0 appends its string. */
static void
vlog(enum log_level level, const struct logf *f, int errnum, const char *fmt,
    va_list ap)
{
	char		 msg[LOG_LINE_MAX / 2], line[LOG_LINE_MAX];
	char		 ts[ISOTIME_SIZE];
	size_t		 len;
	ssize_t		 written;
	int		 n;

	if (level > log_level)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (errnum >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
		    strerror(errnum));
	isotime_now(ts);
	n = snprintf(line, sizeof(line),
	    "{\"time\":\"%s\",\"level\":\"%s\",\"pid\":%ld,"
	    "\"role\":\"%s\"", ts, level_names[level], (long)getpid(),
	    log_role);
	len = (size_t)n;
	if (log_worker >= 0)
		len += (size_t)snprintf(line + len, sizeof(line) - len,
		    ",\"worker\":%d", log_worker);
	memcpy(line + len, ",\"msg\":\"", 8);
	len += 8;
	len += log_json_escape(line + len, sizeof(line) - len - 1024, msg,
	    strlen(msg));
	line[len++] = '"';
	if (f != NULL && f->len > 0 && len + f->len + 3 < sizeof(line)) {
		memcpy(line + len, f->buf, f->len);
		len += f->len;
	}
	line[len++] = '}';
	line[len++] = '\n';
	/* Nothing to do if stderr is gone; the result only silences gcc. */
	written = write(STDERR_FILENO, line, len);
	(void)written;
}

void
log_emit(enum log_level level, const struct logf *f, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(level, f, -1, fmt, ap);
	va_end(ap);
}

/* Warning with the current errno's text appended, as OpenBSD's log_warn. */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, NULL, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, NULL, -1, fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, NULL, -1, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, NULL, -1, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_DEBUG, NULL, -1, fmt, ap);
	va_end(ap);
}

/* Log with errno and exit 1: only before serving or in the master's setup. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, NULL, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, NULL, -1, fmt, ap);
	va_end(ap);
	exit(1);
}

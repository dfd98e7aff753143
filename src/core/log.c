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
#include <unistd.h>

#include "bw.h"
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

/*
 * Append "key":"value" to a line's extra fields: nothing if the key and
 * both quotes do not fit, else as much of the escaped value as does.
 */
void
logf_str(struct logf *f, const char *key, const char *val)
{
	struct bw	w;

	bw_init(&w, f->buf, sizeof(f->buf));
	bw_advance(&w, f->len);
	if (bw_printf(&w, ",\"%s\":\"", key) != 0 || bw_room(&w) <= 2)
		return;
	bw_advance(&w, log_json_escape(bw_tail(&w), bw_room(&w) - 1,
	    val == NULL ? "" : val, val == NULL ? 0 : strlen(val)));
	bw_putc(&w, '"');
	f->len = bw_finish(&w);
}

/* Append "key":number to a line's extra fields, whole or not at all. */
void
logf_int(struct logf *f, const char *key, long long val)
{
	struct bw	w;

	bw_init(&w, f->buf, sizeof(f->buf));
	bw_advance(&w, f->len);
	if (bw_printf(&w, ",\"%s\":%lld", key, val) == 0 &&
	    !bw_truncated(&w))
		f->len = w.len;
}

/* Build one line and write it at once; errnum >= 0 appends its string. */
static void
vlog(enum log_level level, const struct logf *f, int errnum, const char *fmt,
    va_list ap)
{
	char		 msg[LOG_LINE_MAX / 2], line[LOG_LINE_MAX];
	char		 ts[ISOTIME_SIZE];
	struct bw	 m, w;
	ssize_t		 written;

	if (level > log_level)
		return;
	bw_init(&m, msg, sizeof(msg));
	if (bw_vprintf(&m, fmt, ap) != 0)
		return;
	if (errnum >= 0 && !bw_truncated(&m))
		bw_printf(&m, ": %s", strerror(errnum));
	isotime_now(ts);
	bw_init(&w, line, sizeof(line));
	bw_printf(&w, "{\"time\":\"%s\",\"level\":\"%s\",\"pid\":%ld,"
	    "\"role\":\"%s\"", ts, level_names[level], (long)getpid(),
	    log_role);
	if (log_worker >= 0)
		bw_printf(&w, ",\"worker\":%d", log_worker);
	bw_puts(&w, ",\"msg\":\"");
	/* The message leaves 1 KiB: the extra fields and the end fit. */
	bw_advance(&w, log_json_escape(bw_tail(&w), bw_room(&w) - 1024, msg,
	    strlen(msg)));
	bw_putc(&w, '"');
	if (f != NULL && f->len > 0 && w.len + f->len + 3 < sizeof(line))
		bw_append(&w, f->buf, f->len);
	bw_putc(&w, '}');
	bw_putc(&w, '\n');
	/* Nothing to do if stderr is gone; the result only silences gcc. */
	written = write(STDERR_FILENO, line, w.len);
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

/*
 * Structured logging: one JSON object per line on stderr, the form journald
 * and every log shipper read without configuration.  The API follows the
 * OpenBSD daemons' log.h; every line carries time, level, pid, role and
 * worker id, and every string from outside passes the JSON escaper.
 */
#ifndef SGW_LOG_H
#define SGW_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

/* Extra "key":value pairs for one line, built with logf_*(). */
struct logf {
	char	buf[768];
	size_t	len;
};

#define LOG_PRINTF(a, b) __attribute__((__format__ (printf, a, b)))

/* log.c */
void	log_init(enum log_level);
void	log_procinit(const char *role, int worker);
void	log_setlevel(enum log_level);
enum log_level log_getlevel(void);
int	log_level_parse(const char *, enum log_level *);
const char *log_level_name(enum log_level);
void	log_emit(enum log_level, const struct logf *, const char *, ...)
	    LOG_PRINTF(3, 4);
void	log_warn(const char *, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *, ...) LOG_PRINTF(1, 2);
void	log_error(const char *, ...) LOG_PRINTF(1, 2);
void	log_info(const char *, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *, ...) LOG_PRINTF(1, 2);
void	fatal(const char *, ...) LOG_PRINTF(1, 2) __attribute__((__noreturn__));
void	fatalx(const char *, ...) LOG_PRINTF(1, 2) __attribute__((__noreturn__));
void	logf_str(struct logf *, const char *, const char *);
void	logf_int(struct logf *, const char *, long long);
size_t	log_json_escape(char *, size_t, const char *, size_t);

#endif /* SGW_LOG_H */

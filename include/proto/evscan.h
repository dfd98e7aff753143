/*
 * evscan: a Socket.IO event's JSON payload seen in one pass, without a
 * tree (issue 16): its name and the members of its first argument, as
 * spans of the client's own text, so that a hot event can be validated
 * and its fields spliced into what the gateway sends.  The pass is
 * jsonlimit's scan, with the same limits and the same errors.
 */
#ifndef SGW_EVSCAN_H
#define SGW_EVSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "jsonlimit.h"

/* The first argument's members kept; past them only nmembers counts. */
#define EVSCAN_MEMBERS	16

/*
 * A value as the client wrote it: type is a JSONLIMIT_T_* (a container:
 * its opening type), 0 when there is none; [start, end) its whole text
 * (a string's quotes included).  Strings: len is the decoded length,
 * flags JSONLIMIT_S_*.
 */
struct evscan_value {
	int		 type;
	const char	*start;
	const char	*end;
	size_t		 len;
	unsigned	 flags;
};

struct evscan_member {
	struct evscan_value	 key;
	struct evscan_value	 value;
};

struct evscan {
	bool			 array;		/* the payload is an array */
	size_t			 nelems;	/* its elements, the name too */
	struct evscan_value	 name;		/* element 0 */
	struct evscan_value	 arg;		/* element 1 */
	size_t			 nmembers;	/* arg's, when an object */
	struct evscan_member	 member[EVSCAN_MEMBERS];
	size_t			 numbers;	/* numbers at any depth */
};

/* evscan.c */
int	 evscan_scan(const char *, size_t, const struct jsonlimit *,
	     struct evscan *);
bool	 evscan_is(const struct evscan_value *, const char *, size_t);

#endif /* SGW_EVSCAN_H */

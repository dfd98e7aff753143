/*
 * msgsplice: send_message without a tree (issue 16).  msgsplice_parse()
 * takes an event from its scan (evscan.h) when it is a direct message
 * that events_parse() would accept with the same fields, written the way
 * socket.io-client writes it (JSON.stringify); anything else (a group, an
 * integer id, escapes where an id is, a duplicate field, a number
 * anywhere, a refusal) is left to events_parse(), which gives today's
 * answers.  msgsplice_json() writes the message object as
 * events_message_json() and jsonwrite_dump() would, splicing the client's
 * own text for receiver_id, content and client_msg_id.
 * Pure: no I/O, no logging, no allocation.
 */
#ifndef SGW_MSGSPLICE_H
#define SGW_MSGSPLICE_H

#include <stddef.h>

#include "evscan.h"

struct msgsplice {
	struct evscan_value	 receiver;	/* a string, no escapes */
	struct evscan_value	 content;	/* a string, JSON.stringify's */
	struct evscan_value	 client_msg_id;	/* type 0: none */
	const char		*message_type;	/* events_message_type()'s */
};

/* msgsplice.c */
int	 msgsplice_parse(const struct evscan *, size_t, struct msgsplice *);
size_t	 msgsplice_json(const struct msgsplice *, const char *, const char *,
	     size_t, const char *, const char *, char *, size_t);

#endif /* SGW_MSGSPLICE_H */

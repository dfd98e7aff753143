/*
 * chatrec: a call to the chat service as a spool record, and the paths of
 * the calls about one message (issue 13).  Pure C: no I/O.
 *
 * A record is what spool.h calls an opaque payload:
 *	u8 type ('M' persist, 'S' status, 'D' delete), u16 id length, id,
 *	u16 key length, key (the Idempotency-Key), then the JSON body to
 *	the end.  Lengths are big-endian; id and key 1..CHATREC_FIELD_MAX.
 * The path is not in the record: it is made again from chat_messages_path
 * when the record is replayed, so a changed path applies to the spool too.
 */
#ifndef SGW_CHATREC_H
#define SGW_CHATREC_H

#include <stddef.h>
#include <stdint.h>

#define CHATREC_MESSAGE		'M'	/* POST path, the message */
#define CHATREC_STATUS		'S'	/* POST path/<id>/status */
#define CHATREC_DELETE		'D'	/* DELETE path/<id> */
#define CHATREC_FIELD_MAX	1024	/* id, key: bytes */
#define CHATREC_HDR_LEN		5	/* type and the two lengths */

struct chatrec {
	int		 type;
	const char	*id;
	size_t		 idlen;
	const char	*key;
	size_t		 keylen;
	const char	*body;
	size_t		 blen;
};

/* chatrec.c */
size_t	chatrec_size(const struct chatrec *);
size_t	chatrec_encode(const struct chatrec *, uint8_t *, size_t);
int	chatrec_decode(const void *, size_t, struct chatrec *);
int	chatrec_path(const char *, const char *, size_t, const char *, char *,
	    size_t);

#endif /* SGW_CHATREC_H */

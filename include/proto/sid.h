/*
 * sid.h: Engine.IO session ids that name the worker owning the session.
 *
 * A sid is SID_LEN (20) base64url characters, like the reference server's:
 *
 *	WW RRRRRRRRRRRRRRRRRR
 *	|  '- 18 chars: the first 108 bits of SID_RANDOM_BYTES random bytes
 *	'---- 2 chars: the worker id, 12 bits big-endian (0..SID_WORKER_MAX)
 *
 * Any worker can read the owner from a sid (a long-polling request that
 * reaches the wrong worker is handed to the right one) while the 108
 * random bits keep it unguessable (more than the reference's base64id,
 * which puts a counter in part of its 15 bytes).
 * The caller supplies the random bytes (getrandom(2) in the worker): this
 * file is pure.  Only [A-Za-z0-9_-] appear, so a sid is URL- and JSON-safe.
 */
#ifndef SGW_SID_H
#define SGW_SID_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define SID_LEN			20
#define SID_RANDOM_BYTES	14	/* 112 bits given, 108 used */
#define SID_WORKER_MAX		4095

/* sid.c */
int	 sid_encode(const uint8_t [SID_RANDOM_BYTES], unsigned,
	     char [SID_LEN + 1]);
int	 sid_worker(const char *, size_t);
bool	 sid_valid(const char *, size_t);

#endif /* SGW_SID_H */

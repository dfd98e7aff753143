/*
 * sior_js: the pieces of sioredis.c that give a jansson tree the meaning
 * a Node.js peer gives the same bytes (pure C, internal to sioredis):
 * notepack.io's msgpack in (sior_unpack.c) and out (sior_pack.c), and
 * JavaScript's object rules (sior_js.c), so that what we write to a
 * client or to Redis is what a Node.js socket.io server would write.
 */
#ifndef SGW_SIOR_JS_H
#define SGW_SIOR_JS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <msgpack.h>

#include "sioredis.h"

/* Bounds on a decoded message, beyond its bytes (SIOR_MSG_MAX). */
#define SIOR_DEPTH_MAX		40	/* nested containers, envelope too */
#define SIOR_ELEMENTS_MAX	100000	/* values and keys */

/*
 * A tree read from msgpack.  notepack's undefined is the node undef until
 * sior_js_fix() drops it; a binary (bin, ArrayBuffer ext, other ext's
 * bytes) is an empty object, bins[i], whose bytes are binp[i], binlen[i],
 * until sior_js_placeholders() makes it a placeholder.  The tree holds a
 * reference on each, so pointers compare safely.
 */
struct sior_tree {
	json_t		*root;
	json_t		*undef;
	json_t		*bins[SIOR_ATT_MAX];
	const uint8_t	*binp[SIOR_ATT_MAX];
	size_t		 binlen[SIOR_ATT_MAX];
	unsigned	 nbins;
};

/* sior_unpack.c */
int	 sior_unpack(const uint8_t *, size_t, struct sior_tree *);
void	 sior_tree_free(struct sior_tree *);

/* sior_js.c */
int	 sior_js_load(const char *, size_t, unsigned, json_t **);
int	 sior_js_fix(json_t *, const json_t *);
bool	 sior_js_truthy(const json_t *);
bool	 sior_js_int(const json_t *, int64_t *);
int	 sior_js_date(double, char *, size_t);
void	 sior_js_placeholders(json_t *, const struct sior_tree *,
	    struct sior_str *, unsigned *);

/* sior_pack.c */
int	 sior_pack(msgpack_packer *, const json_t *);

#endif /* SGW_SIOR_JS_H */

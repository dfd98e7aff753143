/*
 * grouplist: the groups a token says its user is in (group_membership
 * token, issue 13), pure C.  Read from the token's `groups` claim, a JSON
 * array of group ids: valid ids only (roomname.h), without duplicates, at
 * most a given number of them (the rest is left out, and said so), sorted
 * so that a check is a binary search.
 */
#ifndef SGW_GROUPLIST_H
#define SGW_GROUPLIST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct grouplist {
	size_t	  n;
	char	**v;		/* n ids, sorted bytewise, in one allocation */
};

/* grouplist.c */
struct grouplist	*grouplist_from_json(const json_t *, size_t, size_t *);
bool			 grouplist_has(const struct grouplist *, const char *,
			    size_t);
void			 grouplist_free(struct grouplist *);

#endif /* SGW_GROUPLIST_H */

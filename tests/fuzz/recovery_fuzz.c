/*
 * libFuzzer harness for recmatch.c: what a reconnecting client sends in
 * its CONNECT auth ({pid, offset}, anybody's strings) and which log
 * entries a session missed.  The input is JSON text, parsed by jansson as
 * the gateway does (NULs allowed in strings).  Checked, beyond memory
 * safety:
 *  - an accepted ask holds a pid recovery_pid_valid() takes and an offset
 *    of exactly RECLOG_OFF_LEN lowercase hex characters, NUL-terminated;
 *  - a refused or absent one leaves both empty;
 *  - the input's strings, as room names, fill a slot only within its
 *    bytes, and every room added is then wanted by the session, an entry
 *    excepting its sid never is.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recovery.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_ask(json_t *v)
{
	struct recovery_ask	a;
	size_t			i;
	int			rc;

	rc = recovery_ask(v, &a);
	if (rc == RECOVERY_ASK) {
		if (!recovery_pid_valid(a.pid, strlen(a.pid)) ||
		    strlen(a.off) != RECLOG_OFF_LEN)
			abort();
		for (i = 0; i < RECLOG_OFF_LEN; i++)
			if (!((a.off[i] >= '0' && a.off[i] <= '9') ||
			    (a.off[i] >= 'a' && a.off[i] <= 'f')))
				abort();
	} else if (rc == RECOVERY_ASK_NONE || rc == RECOVERY_ASK_BAD) {
		if (a.pid[0] != '\0' || a.off[0] != '\0')
			abort();
	} else
		abort();
}

static void
check_rooms(json_t *v)
{
	struct reclog_sess	 s;
	struct reclog_ent	 e;
	const char		*k;
	json_t			*x;

	memset(&s, 0, sizeof(s));
	strcpy(s.sid, "AAbbbbbbbbbbbbbbbbbb");
	memset(&e, 0, sizeof(e));
	e.to = RECLOG_TO_ROOM;
	e.worker = -1;
	json_object_foreach(v, k, x) {
		if (!json_is_string(x))
			continue;
		e.room = json_string_value(x);
		e.rlen = json_string_length(x);
		if (recovery_rooms_add(&s, e.room, e.rlen) != 0)
			continue;
		if (s.rooms_len > sizeof(s.rooms) ||
		    s.rooms[s.rooms_len - 1] != '\0')
			abort();
		e.except = NULL;
		e.elen = 0;
		if (!recovery_wants(&s, 0, NULL, 0, &e))
			abort();
		e.except = s.sid;
		e.elen = strlen(s.sid);
		if (recovery_wants(&s, 0, NULL, 0, &e))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	json_t	*v;

	v = json_loadb((const char *)data, len, JSON_DECODE_ANY |
	    JSON_ALLOW_NUL, NULL);
	if (v == NULL)
		return 0;
	check_ask(v);
	if (json_is_object(v))
		check_rooms(v);
	json_decref(v);
	return 0;
}

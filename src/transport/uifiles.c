/*
 * uifiles: the Socket.IO Admin UI's static files (issue 18), served from
 * admin_ui_dir at admin_ui_path when both are set: GET and HEAD only, a
 * path uipath.c accepts, a regular file no symbolic link leads to (its
 * real path under the directory's real path, and opened with
 * O_NOFOLLOW), of at most UIFILES_MAX bytes; 404 otherwise.  The prefix
 * without its last slash gets a page that sends the browser to it: the
 * UI's index.html loads its assets by relative paths.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "uipath.h"
#include "transport.h"

#define UIFILES_MAX	(8u * 1024 * 1024)

static const char	not_found[] = "{\"error\":\"not found\"}";

/* Is this request for the UI's files?  Then uifiles_request() answers. */
bool
uifiles_match(const struct transport *t, const char *path)
{
	const char	*p = t->conf->admin_ui_path;
	size_t		 n;

	if (!t->conf->admin || t->conf->admin_ui_dir == NULL ||
	    t->conf->admin_ui_dir[0] == '\0' || p == NULL)
		return false;
	n = strlen(p);
	return strncmp(path, p, n) == 0 ||
	    (n > 1 && strncmp(path, p, n - 1) == 0 && path[n - 1] == '\0');
}

/*
 * The file's bytes into c's reply: 0, or -1 (refused, not found, too
 * big).  Symbolic links: the real path must stay under the directory's.
 */
static int
load(struct transport *t, const char *rel, struct conn *c)
{
	char		 dir[PATH_MAX], full[PATH_MAX], real[PATH_MAX];
	struct stat	 st;
	ssize_t		 n;
	size_t		 dlen, off = 0;
	int		 fd;

	if (realpath(t->conf->admin_ui_dir, dir) == NULL)
		return -1;
	dlen = strlen(dir);
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", dir, rel) >=
	    sizeof(full) || realpath(full, real) == NULL ||
	    strncmp(real, dir, dlen) != 0 || real[dlen] != '/' ||
	    strcmp(real, full) != 0)	/* a link, anywhere on the way */
		return -1;
	if ((fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > UIFILES_MAX ||
	    buf_reserve(&c->buf, (size_t)st.st_size + 1, UIFILES_MAX + 1)
	    != 0) {
		close(fd);
		return -1;
	}
	while (off < (size_t)st.st_size && (n = read(fd, c->buf.p + off,
	    (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	close(fd);
	if (off != (size_t)st.st_size)
		return -1;
	c->buf.len = off;
	return 0;
}

/* LWS_CALLBACK_HTTP for a path uifiles_match() took. */
int
uifiles_request(struct transport *t, struct lws *wsi, struct conn *c,
    const char *path)
{
	static const char	 go[] = "<!DOCTYPE html><meta http-equiv="
				    "\"refresh\" content=\"0; url=%s\">";
	const char		*type;
	char			 rel[UIPATH_MAX + 1], page[sizeof(go) + 256];
	int			 n;

	if (c->method != CONN_GET && c->method != CONN_HEAD) {
		t->stats.admin_files_refused++;
		c->closing = 1;		/* and its body unread */
		return http_reply(wsi, c, 405, "application/json",
		    "{\"error\":\"method not allowed\"}", 30);
	}
	if (path[strlen(t->conf->admin_ui_path) - 1] == '\0') {
		n = snprintf(page, sizeof(page), go, t->conf->admin_ui_path);
		return http_reply(wsi, c, 200, "text/html; charset=utf-8",
		    page, n > 0 && (size_t)n < sizeof(page) ? (size_t)n : 0);
	}
	buf_free(&c->buf);
	if ((type = uipath_resolve(t->conf->admin_ui_path, path, rel,
	    sizeof(rel))) == NULL || load(t, rel, c) != 0) {
		buf_free(&c->buf);
		t->stats.admin_files_refused++;
		log_debug("admin UI: %s refused or not found", path);
		return http_reply(wsi, c, 404, "application/json", not_found,
		    sizeof(not_found) - 1);
	}
	t->stats.admin_files++;
	hup_stop(c);
	c->status = 200;
	c->ctype = type;
	lws_callback_on_writable(wsi);
	return 0;
}

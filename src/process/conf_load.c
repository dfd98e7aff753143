/*
 * The whole load, in precedence order: defaults, file, environment,
 * command line, then the cross-key rules.  Start-up, `-t` and SIGHUP all
 * call this one function, so a reload sees exactly what a restart would.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

const char conf_default_path[] = SYSCONFDIR "/socket-gateway/socket-gateway.conf";

/* Returns the number of errors; c holds defaults and whatever did parse. */
int
conf_load_all(const struct cli_opts *o, struct conf *c, conf_err_fn err,
    void *arg)
{
	const char	*path = o->config;
	int		 errors = 0;

	conf_init(c);
	if (path == NULL && access(conf_default_path, F_OK) == 0)
		path = conf_default_path;
	if (path != NULL)
		errors += conf_load_file(c, path, err, arg);
	errors += conf_apply_env(c, err, arg);
	if (o->workers != NULL && conf_parse_value(c, conf_key_find("workers"),
	    o->workers, "command line -w", err, arg) != 0)
		errors++;
	if (o->port != NULL &&
	    conf_parse_port(c, o->port, "command line -p", err, arg) != 0)
		errors++;
	if (o->log_level != NULL && conf_parse_value(c,
	    conf_key_find("log_level"), o->log_level, "command line -l", err,
	    arg) != 0)
		errors++;
	if (errors == 0)
		errors += conf_check(c, err, arg);
	return errors;
}

/* The file actually read, for messages: the -c path or the default. */
const char *
conf_path(const struct cli_opts *o)
{
	if (o->config != NULL)
		return o->config;
	return access(conf_default_path, F_OK) == 0 ? conf_default_path :
	    "(defaults)";
}

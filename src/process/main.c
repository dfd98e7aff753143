/*
 * socket-gatewayd: the command line.  Everything else lives behind
 * master_main(); this file only parses flags, loads the configuration and
 * answers -h, -V and -t.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "log.h"
#include "master.h"


static void	err_plain(void *, const char *);
static void	err_log(void *, const char *);

/* -t prints errors for a person; a starting daemon logs them as JSON. */
static void
err_plain(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "socket-gatewayd: %s\n", msg);
}

static void
err_log(void *arg, const char *msg)
{
	(void)arg;
	log_error("configuration: %s", msg);
}

int
main(int argc, char **argv)
{
	struct cli_opts	 o;
	struct conf	 c;
	char		 why[256];
	int		 errors = 0;

	memset(&c, 0, sizeof(c));
	if (cli_parse(argc, argv, &o, why, sizeof(why)) != 0) {
		fprintf(stderr, "socket-gatewayd: %s\n", why);
		cli_print_usage(stderr);
		return 2;
	}
	if (o.help) {
		cli_print_usage(stdout);
		return 0;
	}
	if (o.version) {
		printf("socket-gatewayd %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (o.env_file != NULL)
		errors = conf_load_env_file(o.env_file,
		    o.test ? err_plain : err_log, NULL);
	if (errors == 0)
		errors = conf_load_all(&o, &c, o.test ? err_plain : err_log,
		    NULL);
	if (o.test) {
		if (errors == 0)
			conf_dump(&c, stdout);
		fprintf(stderr, "socket-gatewayd: configuration file %s test "
		    "%s\n", conf_path(&o), errors == 0 ? "is successful" :
		    "failed");
		conf_free(&c);
		return errors == 0 ? 0 : 1;
	}
	if (errors != 0) {
		log_error("configuration file %s has %d error%s; not starting",
		    conf_path(&o), errors, errors == 1 ? "" : "s");
		return 1;
	}
	log_setlevel((enum log_level)c.log_level);
	return master_main(&o, &c);
}

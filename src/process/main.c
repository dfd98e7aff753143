/*
 * socket-gatewayd: the command line.  Everything else lives behind
 * master_main(); this file only parses flags, loads the configuration and
 * answers -h, -V and -t.
 */
#include <sys/stat.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "log.h"
#include "master.h"


static void	err_plain(void *, const char *);
static void	err_log(void *, const char *);
static bool	stderr_is_journal(void);

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

/*
 * systemd sets JOURNAL_STREAM to the device and inode of the journal
 * stream it gave us (systemd.exec(5)).  When stderr is still that stream,
 * the -t run by the unit's ExecStartPre and ExecReload writes JSON lines
 * like the daemon's, so that `journalctl -u socket-gatewayd -o cat | jq`
 * reads every line, its errors included (issue 17).
 */
static bool
stderr_is_journal(void)
{
	const char		*e = getenv("JOURNAL_STREAM");
	struct stat		 st;
	unsigned long long	 dev, ino;

	if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

int
main(int argc, char **argv)
{
	struct cli_opts	 o;
	struct conf	 c;
	char		 why[256];
	int		 errors = 0;
	bool		 plain;

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
	plain = o.test && !stderr_is_journal();
	if (o.env_file != NULL)
		errors = conf_load_env_file(o.env_file,
		    plain ? err_plain : err_log, NULL);
	if (errors == 0)
		errors = conf_load_all(&o, &c, plain ? err_plain : err_log,
		    NULL);
	if (o.test) {
		if (errors == 0)
			conf_dump(&c, stdout);
		if (plain)
			fprintf(stderr, "socket-gatewayd: configuration file "
			    "%s test %s\n", conf_path(&o), errors == 0 ?
			    "is successful" : "failed");
		else if (errors == 0)
			log_info("configuration file %s test is successful",
			    conf_path(&o));
		else
			log_error("configuration file %s test failed",
			    conf_path(&o));
		conf_free(&c);
		return errors == 0 ? 0 : EX_CONFIG;
	}
	/*
	 * EX_CONFIG (78), not 1: the unit's RestartPreventExitStatus=78
	 * keeps systemd from restarting a daemon that cannot start until
	 * its file is fixed, so that systemctl status still shows the
	 * lines above, which say why (issue 17).
	 */
	if (errors != 0) {
		log_error("configuration file %s has %d error%s; not starting",
		    conf_path(&o), errors, errors == 1 ? "" : "s");
		conf_free(&c);
		return EX_CONFIG;
	}
	log_setlevel((enum log_level)c.log_level);
	return master_main(&o, &c);
}

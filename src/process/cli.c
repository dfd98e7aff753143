/*
 * getopt_long for socket-gatewayd.  The usage text is the man page's
 * SYNOPSIS, word for word (a test compares them).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

const char cli_usage[] =
    "usage: socket-gatewayd [-htV] [-c file] [-e file] [-l level] [-p port]\n"
    "                       [-w workers]\n"
    "  -c, --config FILE      configuration file\n"
    "  -e, --env-file FILE    read KEY=VALUE environment settings first\n"
    "  -h, --help             print this help and exit\n"
    "  -l, --log-level LEVEL  error, warn, info or debug\n"
    "  -p, --port PORT        port for every listener (overrides PORT)\n"
    "  -t, --test-config      check the configuration, print it and exit\n"
    "  -V, --version          print the version and exit\n"
    "  -w, --workers N        worker processes (0: one per CPU)\n";

static const char shortopts[] = ":c:e:hl:p:tVw:";

static const struct option longopts[] = {
	{ "config",	 required_argument, NULL, 'c' },
	{ "env-file",	 required_argument, NULL, 'e' },
	{ "help",	 no_argument,	    NULL, 'h' },
	{ "log-level",	 required_argument, NULL, 'l' },
	{ "port",	 required_argument, NULL, 'p' },
	{ "test-config", no_argument,	    NULL, 't' },
	{ "version",	 no_argument,	    NULL, 'V' },
	{ "workers",	 required_argument, NULL, 'w' },
	{ NULL,		 0,		    NULL, 0 }
};

void
cli_print_usage(FILE *f)
{
	fputs(cli_usage, f);
}

/*
 * Fill opts from argv.  Returns 0, or -1 with a one-line reason in err for a
 * usage error (the caller exits 2).  getopt's own messages are silenced so
 * the reason is ours and testable.
 */
int
cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t len)
{
	int	ch;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 0;	/* 0, not 1: glibc then forgets a half-read "-xy" */
	while ((ch = getopt_long(argc, argv, shortopts, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'e':
			o->env_file = optarg;
			break;
		case 'h':
			o->help = true;
			break;
		case 'l':
			o->log_level = optarg;
			break;
		case 'p':
			o->port = optarg;
			break;
		case 't':
			o->test = true;
			break;
		case 'V':
			o->version = true;
			break;
		case 'w':
			o->workers = optarg;
			break;
		case ':':
			if (strncmp(argv[optind - 1], "--", 2) == 0)
				snprintf(err, len, "option '%s' needs a value",
				    argv[optind - 1]);
			else
				snprintf(err, len, "option '-%c' needs a value",
				    optopt);
			return -1;
		default:
			/* optopt names a short option; 0 a long one. */
			if (optopt != 0 && (optopt == ':' ||
			    strchr(shortopts, optopt) == NULL))
				snprintf(err, len, "unknown option '-%c'",
				    optopt);
			else if (optopt != 0)
				snprintf(err, len, "option '%.*s' takes no "
				    "value", (int)strcspn(argv[optind - 1],
				    "="), argv[optind - 1]);
			else
				snprintf(err, len, "unknown option '%s'",
				    argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, len, "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

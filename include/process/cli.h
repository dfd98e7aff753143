/*
 * The command line, parsed into a struct without side effects so the tests
 * can check every flag and every usage error.
 */
#ifndef SGW_CLI_H
#define SGW_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli_opts {
	const char	*config;	/* -c; NULL = the default path */
	const char	*env_file;	/* -e */
	const char	*workers;	/* -w, as text, checked by conf_parse.c */
	const char	*port;		/* -p */
	const char	*log_level;	/* -l */
	bool		 test;		/* -t */
	bool		 help;		/* -h */
	bool		 version;	/* -V */
};

/* cli.c */
extern const char	 cli_usage[];
int	cli_parse(int, char **, struct cli_opts *, char *, size_t);
void	cli_print_usage(FILE *);

#endif /* SGW_CLI_H */

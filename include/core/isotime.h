/*
 * Times as ISO 8601 UTC with milliseconds (isotime.c).
 */
#ifndef SGW_ISOTIME_H
#define SGW_ISOTIME_H

#include <stdint.h>

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" and its NUL. */
#define ISOTIME_SIZE	25

/* isotime.c */
int64_t	isotime_now_ms(void);
int	isotime_format(int64_t, char *);
void	isotime_now(char *);

#endif /* SGW_ISOTIME_H */

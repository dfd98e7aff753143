/*
 * Random bytes from the kernel (getrandom), drawn 4 KiB at a time: a
 * session id, a socket id and a message id each need a few bytes, and one
 * system call per id showed in the connection-setup profile.
 */
#ifndef SGW_RANDPOOL_H
#define SGW_RANDPOOL_H

#include <stddef.h>

/* randpool.c */
int	randpool_get(void *, size_t);

#endif /* SGW_RANDPOOL_H */

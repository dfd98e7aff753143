/*
 * spool_file: one spool file on disk, the building block of spool.c
 * (spool.h says what the spool guarantees, spool_rec.h how a file is
 * written): taking a file under its lock, loading it with its torn tail
 * cut, appending records and ACKs, syncing, reading the oldest record
 * back, and dropping the taken prefix by truncation or compaction.
 * spool.c keeps the files a handle holds, their order and the batching.
 *
 * In memory a file is a few offsets: end (where the next record goes),
 * rd (the oldest record not taken) and the seqs acked and acked on disk.
 * Nothing of the records is kept; spool_file_read() reads the oldest one
 * back with pread(2).
 */
#ifndef SGW_SPOOL_FILE_H
#define SGW_SPOOL_FILE_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "spool_rec.h"

/* What the files of one handle share. */
struct spool_io {
	const char	*dir;		/* the spool directory, for the logs */
	int		 dirfd;
	uint8_t		*buf;		/* reads: scans and peeks */
	size_t		 bufsz;
	uint64_t	 torn;		/* counters, for spool_stats() */
	uint64_t	 torn_bytes;
	uint64_t	 compactions;
	uint64_t	 syncs;
};

struct spool_file {
	TAILQ_ENTRY(spool_file)	 entry;		/* spool.c's list */
	char			 name[64];
	int			 fd;
	int			 own;		/* appended to */
	int			 dirty;		/* written, not synced */
	uint64_t		 created;	/* ns since the epoch */
	uint64_t		 end;		/* valid bytes; append here */
	uint64_t		 rd;		/* oldest record not taken */
	uint64_t		 next_seq;	/* the next DATA record's */
	uint64_t		 acked;		/* DATA up to here were taken */
	uint64_t		 acked_disk;	/* ... and an ACK says so */
	uint64_t		 depth;		/* DATA records not taken */
	uint64_t		 bytes;		/* and their payload bytes */
	uint64_t		 peek_seq;	/* the record at rd, if read */
	size_t			 peek_size;	/* its size; 0: not read */
};

/* spool_file.c */
int		 spool_file_take(struct spool_io *, const char *, int);
struct spool_file *spool_file_load(struct spool_io *, const char *, int,
		     int);
void		 spool_file_free(struct spool_io *, struct spool_file *,
		     int);
int		 spool_file_pread(struct spool_io *, struct spool_file *,
		     uint64_t, size_t, struct spool_rec *);
int		 spool_file_append(struct spool_io *, struct spool_file *,
		     const void *, size_t);
int		 spool_file_put_ack(struct spool_io *, struct spool_file *);
int		 spool_file_sync(struct spool_io *, struct spool_file *);
int		 spool_file_read(struct spool_io *, struct spool_file *,
		     struct spool_rec *);
int		 spool_file_truncate(struct spool_io *, struct spool_file *);
int		 spool_file_compact(struct spool_io *, struct spool_file *);

#endif /* SGW_SPOOL_FILE_H */

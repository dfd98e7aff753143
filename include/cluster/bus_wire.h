/*
 * bus_wire: the framing of a bus message (bus.c), pure C: no I/O, no
 * allocation, no logging, so that it is unit tested and fuzzed alone.
 *
 * Wire format, big-endian: a header of BUS_HDR_LEN bytes
 *
 *	off size
 *	0   4	magic "SGB" + version 1 (BUS_WIRE_MAGIC)
 *	4   2	sender's worker id, 0..BUS_WID_MAX
 *	6   2	flags: BUS_WIRE_RESYNC; other bits zero
 *	8   4	channel: one sender's link to one receiver, a new id each
 *		time it restarts
 *	12  4	seq, numbered from 1 on each channel
 *	16  4	count of records that follow
 *
 * then count records of BUS_REC_HDR_LEN + length bytes each: type (u8),
 * length (u32), bytes.  Nothing may follow the last record.
 */
#ifndef SGW_BUS_WIRE_H
#define SGW_BUS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "bus.h"

#define BUS_WIRE_MAGIC	0x53474201u	/* "SGB", version 1 */
#define BUS_WIRE_RESYNC	1	/* "send me what a new peer gets" */

/* A header, as bus_wire_decode() reads it. */
struct bus_wire_hdr {
	int		 from;		/* sender's worker id */
	uint16_t	 flags;		/* BUS_WIRE_RESYNC */
	uint32_t	 chan;
	uint32_t	 seq;
	uint32_t	 count;		/* records */
};

/* bus_wire.c */
void		 bus_wire_put_hdr(uint8_t *, int, uint32_t, uint32_t,
		     uint32_t);
void		 bus_wire_add_count(uint8_t *, uint32_t);
void		 bus_wire_set_resync(uint8_t *);
size_t		 bus_wire_put_record(uint8_t *, uint8_t, const void *,
		     size_t);
int		 bus_wire_decode(const uint8_t *, size_t,
		     struct bus_wire_hdr *);
size_t		 bus_wire_record(const uint8_t *, size_t, uint8_t *,
		     const uint8_t **, size_t *);

#endif /* SGW_BUS_WIRE_H */

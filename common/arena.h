/* arena.h — a bump allocator for short-lived decodes (one request, one read), freed all at once.
 *
 * Memory from arena_alloc stays valid until arena_reset or arena_close. Blocks grow geometrically;
 * a reset keeps the largest block so a steady workload stops calling malloc. */
#ifndef STSD_ARENA_H
#define STSD_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head; /* current block, older ones chained behind it */
	size_t min_block;         /* size of the first block */
};

/* Initialise an empty arena whose first block will hold at least min_block bytes. */
void arena_init(struct arena *a, size_t min_block);
/* Free every block. The arena may be reused after arena_init. */
void arena_close(struct arena *a);
/* Release all allocations, keeping one block for reuse. */
void arena_reset(struct arena *a);
/* size bytes aligned to 16, or NULL when malloc fails. */
void *arena_alloc(struct arena *a, size_t size);
/* A NUL-terminated copy of s[0..len). */
char *arena_strndup(struct arena *a, const char *s, size_t len);

#endif

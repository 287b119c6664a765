#ifndef _EX_LINUX_MEMPOOL_H
#define _EX_LINUX_MEMPOOL_H
#include <linux/gfp_types.h>
typedef struct mempool_s mempool_t;
void *mempool_alloc_noprof(mempool_t *pool, gfp_t gfp_mask);
void mempool_free(void *element, mempool_t *pool);
#define mempool_alloc(...)	alloc_hooks(mempool_alloc_noprof(__VA_ARGS__))
#endif

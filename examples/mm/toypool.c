// SPDX-License-Identifier: GPL-2.0
/* Toy memory pools: the allocation classes the too-small-to-fail debate is about. */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/mempool.h>
#include <linux/vmalloc.h>

struct toy_req { int id; char payload[240]; };

struct toy_req *toy_req_get(mempool_t *pool)
{
	/* mempool_alloc with a blocking mask waits for an element: it never returns NULL */
	struct toy_req *req = mempool_alloc(pool, GFP_NOIO); // expect: site=nofail reasons=mempool
	if (!req) // expect: dead-error-path dead_lines=1
		return NULL;
	req->id = 0;
	return req;
}

void *toy_table(unsigned long entries)
{
	return kvmalloc(entries * sizeof(void *), GFP_KERNEL); // expect: site=unknown
}

void *toy_must_have(void)
{
	return kzalloc(sizeof(struct toy_req), GFP_KERNEL | __GFP_NOFAIL); // expect: site=nofail; migrate target=GFP_NOFAIL
}

void *toy_try_hard(void)
{
	return kmalloc(sizeof(struct toy_req), GFP_KERNEL | __GFP_RETRY_MAYFAIL); // expect: site=may-fail reasons=retry-mayfail; migrate target=GFP_RETRY
}

void *toy_big_map(void)
{
	return vzalloc(64 << 20); // expect: site=may-fail reasons=vmalloc
}

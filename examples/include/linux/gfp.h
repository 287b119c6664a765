#ifndef _EX_LINUX_GFP_H
#define _EX_LINUX_GFP_H
#include <linux/slab.h>
struct page;
struct page *alloc_pages_noprof(gfp_t gfp, unsigned int order);
unsigned long get_free_pages_noprof(gfp_t gfp_mask, unsigned int order);
unsigned long get_zeroed_page_noprof(gfp_t gfp_mask);
void __free_pages(struct page *page, unsigned int order);
void free_pages(unsigned long addr, unsigned int order);
#define alloc_pages(...)		alloc_hooks(alloc_pages_noprof(__VA_ARGS__))
#define alloc_page(gfp_mask)		alloc_pages(gfp_mask, 0)
#define __get_free_pages(...)		alloc_hooks(get_free_pages_noprof(__VA_ARGS__))
#define __get_free_page(gfp_mask)	__get_free_pages((gfp_mask), 0)
#define get_zeroed_page(...)		alloc_hooks(get_zeroed_page_noprof(__VA_ARGS__))
#endif

#ifndef _EX_LINUX_VMALLOC_H
#define _EX_LINUX_VMALLOC_H
#include <linux/gfp_types.h>
void *vmalloc_noprof(unsigned long size);
void *vzalloc_noprof(unsigned long size);
void *__vmalloc_noprof(unsigned long size, gfp_t gfp_mask);
void vfree(const void *addr);
#define vmalloc(...)	alloc_hooks(vmalloc_noprof(__VA_ARGS__))
#define vzalloc(...)	alloc_hooks(vzalloc_noprof(__VA_ARGS__))
#define __vmalloc(...)	alloc_hooks(__vmalloc_noprof(__VA_ARGS__))
#endif

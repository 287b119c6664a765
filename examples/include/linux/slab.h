/* Allocator entry points in the style of Linux 6.12: macros over *_noprof functions
 * (memory allocation profiling), written for the gfplint example tree. */
#ifndef _EX_LINUX_SLAB_H
#define _EX_LINUX_SLAB_H
#include <linux/gfp_types.h>

struct kmem_cache;
#define SLAB_HWCACHE_ALIGN	0x00002000U
#define SLAB_CACHE_DMA		0x00004000U
#define SLAB_ACCOUNT		0x04000000U

#define alloc_hooks(_do_alloc)	({ __typeof__(_do_alloc) _res = _do_alloc; _res; })

void *kmalloc_noprof(size_t size, gfp_t flags);
void *kzalloc_noprof(size_t size, gfp_t flags);
void *kmalloc_array_noprof(size_t n, size_t size, gfp_t flags);
void *krealloc_noprof(const void *p, size_t new_size, gfp_t flags);
void *kvmalloc_node_noprof(size_t size, gfp_t flags, int node);
void *kvmalloc_array_node_noprof(size_t n, size_t size, gfp_t flags, int node);
void *kmem_cache_alloc_noprof(struct kmem_cache *s, gfp_t flags);
char *kstrdup(const char *s, gfp_t gfp);
void *kmemdup_noprof(const void *src, size_t len, gfp_t gfp);
char *kasprintf(gfp_t gfp, const char *fmt, ...);
void kfree(const void *p);
void kvfree(const void *p);
struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     unsigned int flags, void (*ctor)(void *));

#define NUMA_NO_NODE	(-1)
#define kmalloc(...)			alloc_hooks(kmalloc_noprof(__VA_ARGS__))
#define kzalloc(...)			alloc_hooks(kzalloc_noprof(__VA_ARGS__))
#define kmalloc_array(...)		alloc_hooks(kmalloc_array_noprof(__VA_ARGS__))
#define kcalloc(n, size, flags)		kmalloc_array(n, size, (flags) | __GFP_ZERO)
#define krealloc(...)			alloc_hooks(krealloc_noprof(__VA_ARGS__))
#define kvmalloc_node(...)		alloc_hooks(kvmalloc_node_noprof(__VA_ARGS__))
#define kvmalloc(_size, _flags)		kvmalloc_node(_size, _flags, NUMA_NO_NODE)
#define kvzalloc(_size, _flags)		kvmalloc(_size, (_flags)|__GFP_ZERO)
#define kvmalloc_array(_n, _size, _flags) alloc_hooks(kvmalloc_array_node_noprof(_n, _size, _flags, NUMA_NO_NODE))
#define kvcalloc(_n, _size, _flags)	kvmalloc_array(_n, _size, (_flags)|__GFP_ZERO)
#define kmem_cache_alloc(...)		alloc_hooks(kmem_cache_alloc_noprof(__VA_ARGS__))
#define kmem_cache_zalloc(_k, _flags)	kmem_cache_alloc(_k, (_flags)|__GFP_ZERO)
#define kmemdup(...)			alloc_hooks(kmemdup_noprof(__VA_ARGS__))
#define KMEM_CACHE(__struct, __flags) \
	kmem_cache_create(#__struct, sizeof(struct __struct), __alignof__(struct __struct), (__flags), NULL)
#endif

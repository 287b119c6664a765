/* Bits of linux/compiler.h, bug.h, errno.h, printk.h, string.h and err.h. */
#ifndef _EX_LINUX_KERNEL_H
#define _EX_LINUX_KERNEL_H
#include <linux/types.h>
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
/* IS_ENABLED(CONFIG_FOO): 1 when CONFIG_FOO is defined to 1, else 0 (the linux/kconfig.h trick:
 * a defined option pastes into a placeholder that shifts the 1 into the second argument). */
#define __opt_placeholder_1		0,
#define __opt_second(ignored, val, ...)	val
#define __opt_pick(arg_or_junk)		__opt_second(arg_or_junk 1, 0)
#define __opt_defined(val)		__opt_pick(__opt_placeholder_##val)
#define IS_ENABLED(option)		__opt_defined(option)
#define ENOMEM		12
#define EINVAL		22
#define ENOSPC		28
void __bug(void);
#define BUG_ON(c)	do { if (unlikely(c)) __bug(); } while (0)
int __warn(int c);
#define WARN_ON(c)	unlikely(__warn(!!(c)))
int printk(const char *fmt, ...);
#define pr_err(fmt, ...)	printk(fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)	printk(fmt, ##__VA_ARGS__)
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
size_t strlen(const char *s);
#define MAX_ERRNO	4095
#define IS_ERR_VALUE(x)	unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR_VALUE((unsigned long)ptr); }
static inline void *ERR_PTR(long error) { return (void *)error; }
#define PAGE_SIZE	4096UL
#define sizeof_field(T, m)	sizeof(((T *)0)->m)
#endif

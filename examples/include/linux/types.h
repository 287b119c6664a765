/* Minimal kernel-like types for the gfplint example tree (written for gfplint). */
#ifndef _EX_LINUX_TYPES_H
#define _EX_LINUX_TYPES_H
typedef unsigned long size_t;
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)
#define __force
typedef unsigned int __force gfp_t;
struct list_head { struct list_head *next, *prev; };
#endif

/* memalloc scope API (include/linux/sched/mm.h shapes). */
#ifndef _EX_LINUX_SCHED_MM_H
#define _EX_LINUX_SCHED_MM_H
unsigned int memalloc_nofs_save(void);
void memalloc_nofs_restore(unsigned int flags);
unsigned int memalloc_noio_save(void);
void memalloc_noio_restore(unsigned int flags);
unsigned int memalloc_noreclaim_save(void);
void memalloc_noreclaim_restore(unsigned int flags);
#endif

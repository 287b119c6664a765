/* Locks and atomic sections, shaped like the kernel's (inline functions and macros), for gfplint's examples. */
#ifndef _EX_LINUX_SPINLOCK_H
#define _EX_LINUX_SPINLOCK_H
#include <linux/types.h>
typedef struct { int raw; } spinlock_t;
typedef struct { int raw; } raw_spinlock_t;
typedef struct { int raw; } rwlock_t;
typedef struct { int count; } atomic_t;
struct mutex { int owner; };

void _raw_spin_lock(spinlock_t *lock);
void _raw_spin_unlock(spinlock_t *lock);
unsigned long _raw_spin_lock_irqsave(spinlock_t *lock);
int _raw_spin_trylock(spinlock_t *lock);
static inline void spin_lock(spinlock_t *lock) { _raw_spin_lock(lock); }
static inline void spin_unlock(spinlock_t *lock) { _raw_spin_unlock(lock); }
static inline void spin_lock_bh(spinlock_t *lock) { _raw_spin_lock(lock); }
static inline void spin_unlock_bh(spinlock_t *lock) { _raw_spin_unlock(lock); }
static inline void spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags) { _raw_spin_unlock(lock); }
static inline int spin_trylock(spinlock_t *lock) { return _raw_spin_trylock(lock); }
#define spin_lock_irqsave(lock, flags)	do { flags = _raw_spin_lock_irqsave(lock); } while (0)
void _raw_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags);
void local_irq_disable(void);
void local_irq_enable(void);
void raw_spin_lock(raw_spinlock_t *lock);
void raw_spin_unlock(raw_spinlock_t *lock);
void read_lock(rwlock_t *lock);
void read_unlock(rwlock_t *lock);
void write_lock_bh(rwlock_t *lock);
void write_unlock_bh(rwlock_t *lock);
int atomic_dec_and_lock(atomic_t *atomic, spinlock_t *lock);
void mutex_lock(struct mutex *lock);
void mutex_unlock(struct mutex *lock);

void __rcu_read_lock(void);
void __rcu_read_unlock(void);
static inline void rcu_read_lock(void) { __rcu_read_lock(); }
static inline void rcu_read_unlock(void) { __rcu_read_unlock(); }
void __preempt_count_add(int val);
void __preempt_count_sub(int val);
#define preempt_disable()	__preempt_count_add(1)
#define preempt_enable()	__preempt_count_sub(1)
unsigned long arch_local_irq_save(void);
void arch_local_irq_restore(unsigned long flags);
#define local_irq_save(flags)		do { flags = arch_local_irq_save(); } while (0)
#define local_irq_restore(flags)	arch_local_irq_restore(flags)
void local_bh_disable(void);
void local_bh_enable(void);

/* Scope-based locks in the style of linux/cleanup.h. */
#define __CLASS_CAT(a, b) a##b
#define __UNIQUE(prefix, n) __CLASS_CAT(prefix, n)
#define CLASS(name, var) \
	int var __attribute__((cleanup(class_##name##_destructor))) = class_##name##_constructor
#define guard(name) CLASS(name, __UNIQUE(__guard_, __COUNTER__))
#define scoped_guard(name, args...) \
	for (CLASS(name, scope)(args), *done = 0; !done; done = (void *)1)
int class_spinlock_constructor(spinlock_t *l);
void class_spinlock_destructor(int *g);
int class_rcu_constructor(void);
void class_rcu_destructor(int *g);
int class_mutex_constructor(struct mutex *m);
void class_mutex_destructor(int *g);
#endif

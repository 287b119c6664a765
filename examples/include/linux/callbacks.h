/* Callback registration APIs: interrupts, timers, tasklets, RCU, work items, kthreads, NAPI, ops. */
#ifndef _EX_LINUX_CALLBACKS_H
#define _EX_LINUX_CALLBACKS_H
#include <linux/types.h>
typedef int irqreturn_t;
typedef irqreturn_t (*irq_handler_t)(int, void *);
int request_threaded_irq(unsigned int irq, irq_handler_t handler, irq_handler_t thread_fn,
			 unsigned long flags, const char *name, void *dev);
static inline int request_irq(unsigned int irq, irq_handler_t handler, unsigned long flags,
			      const char *name, void *dev)
{
	return request_threaded_irq(irq, handler, NULL, flags, name, dev);
}
struct device;
int devm_request_threaded_irq(struct device *dev, unsigned int irq, irq_handler_t handler,
			      irq_handler_t thread_fn, unsigned long flags, const char *name, void *dev_id);
static inline int devm_request_irq(struct device *dev, unsigned int irq, irq_handler_t handler,
				   unsigned long flags, const char *name, void *dev_id)
{
	return devm_request_threaded_irq(dev, irq, handler, NULL, flags, name, dev_id);
}
struct timer_list { void (*function)(struct timer_list *); };
void __init_timer(struct timer_list *timer, void (*func)(struct timer_list *), unsigned int flags);
#define timer_setup(timer, callback, flags)	__init_timer((timer), (callback), (flags))
enum hrtimer_restart { HRTIMER_NORESTART, HRTIMER_RESTART };
struct hrtimer { enum hrtimer_restart (*function)(struct hrtimer *); };
void hrtimer_init(struct hrtimer *timer, int clock_id, int mode);
struct tasklet_struct { void (*callback)(struct tasklet_struct *); };
void tasklet_setup(struct tasklet_struct *t, void (*callback)(struct tasklet_struct *));
struct rcu_head { void (*func)(struct rcu_head *); };
void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *));
void tasklet_init(struct tasklet_struct *t, void (*func)(unsigned long), unsigned long data);
struct srcu_struct;
void call_srcu(struct srcu_struct *ssp, struct rcu_head *head, void (*func)(struct rcu_head *));
struct irq_work { void (*func)(struct irq_work *); };
void init_irq_work(struct irq_work *work, void (*func)(struct irq_work *));
typedef void (*smp_call_func_t)(void *info);
int smp_call_function_single(int cpu, smp_call_func_t func, void *info, int wait);
void on_each_cpu_cond(bool (*cond_func)(int cpu, void *info), smp_call_func_t func, void *info, bool wait);
struct cpumask;
typedef int (*cpu_stop_fn_t)(void *arg);
int stop_machine(cpu_stop_fn_t fn, void *data, const struct cpumask *cpus);
struct notifier_block {
	int (*notifier_call)(struct notifier_block *nb, unsigned long action, void *data);
	int priority;
};
struct atomic_notifier_head;
int atomic_notifier_chain_register(struct atomic_notifier_head *nh, struct notifier_block *nb);
int blocking_notifier_chain_register(struct atomic_notifier_head *nh, struct notifier_block *nb);
struct work_struct { void (*func)(struct work_struct *); };
#define INIT_WORK(_work, _func)	do { (_work)->func = (_func); } while (0)
struct delayed_work { struct work_struct work; };
#define INIT_DELAYED_WORK(_work, _func)	INIT_WORK(&(_work)->work, (_func))
struct task_struct;
struct task_struct *kthread_create_on_node(int (*threadfn)(void *data), void *data, int node, const char *namefmt, ...);
#define kthread_run(threadfn, data, namefmt, ...) kthread_create_on_node(threadfn, data, -1, namefmt, ##__VA_ARGS__)
#define kthread_create(threadfn, data, namefmt, arg...) kthread_create_on_node(threadfn, data, -1, namefmt, ##arg)
struct napi_struct { int weight; };
struct net_device;
void netif_napi_add(struct net_device *dev, struct napi_struct *napi, int (*poll)(struct napi_struct *, int));
struct sk_buff;
struct net_device_ops {
	int (*ndo_open)(struct net_device *dev);
	int (*ndo_start_xmit)(struct sk_buff *skb, struct net_device *dev);
	void (*ndo_set_rx_mode)(struct net_device *dev);
	void (*ndo_tx_timeout)(struct net_device *dev, unsigned int txqueue);
};
int register_netevent_notifier(struct notifier_block *nb);
int register_switchdev_notifier(struct notifier_block *nb);
struct urb;
typedef void (*usb_complete_t)(struct urb *);
struct urb { usb_complete_t complete; void *context; };
struct usb_device;
void usb_fill_bulk_urb(struct urb *urb, struct usb_device *dev, unsigned int pipe, void *buf, int len,
		       usb_complete_t complete_fn, void *context);
void usb_fill_int_urb(struct urb *urb, struct usb_device *dev, unsigned int pipe, void *buf, int len,
		      usb_complete_t complete_fn, void *context, int interval);
void usb_fill_control_urb(struct urb *urb, struct usb_device *dev, unsigned int pipe, unsigned char *setup,
			  void *buf, int len, usb_complete_t complete_fn, void *context);
struct Scsi_Host;
struct scsi_cmnd;
struct scsi_host_template { int (*queuecommand)(struct Scsi_Host *shost, struct scsi_cmnd *cmd); };
struct file;
struct file_operations {
	long (*unlocked_ioctl)(struct file *f, unsigned int cmd, unsigned long arg);
	int (*open)(struct file *f);
};
#define SYSCALL_DEFINE1(name, t1, a1) long __do_sys_##name(t1 a1); long __do_sys_##name(t1 a1)
#endif

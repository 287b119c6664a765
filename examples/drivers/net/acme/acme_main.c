// SPDX-License-Identifier: GPL-2.0
/* ACME Ethernet: receive path allocations run in softirq context. */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/gfp.h>
#include <linux/spinlock.h>
#include <linux/callbacks.h>

struct acme_desc { u32 addr; u16 len; u16 flags; };
struct acme_ring { struct acme_desc *desc; void **bufs; int count; };
struct acme_priv { struct acme_ring rx; char *name; void *stats; };

int acme_refill_one(struct acme_ring *ring, int i)
{
	void *buf = kmalloc(2048, GFP_ATOMIC); // expect: site=may-fail reasons=atomic; migrate target=GFP_ATOMIC
	if (!buf)
		return -ENOMEM;
	ring->bufs[i] = buf;
	return 0;
}

void acme_rx_copy(struct acme_priv *priv, const void *data, u16 len)
{
	char *copy = kmalloc(len, GFP_ATOMIC); // expect: site=may-fail reasons=atomic,costly-order size_max=65535; unchecked-may-fail; migrate target=GFP_ATOMIC
	memcpy(copy, data, len);
	kfree(copy);
}

int acme_open(struct acme_priv *priv, int count)
{
	priv->rx.desc = kcalloc(count, sizeof(struct acme_desc), GFP_KERNEL); // expect: site=may-fail reasons=overflow
	if (!priv->rx.desc)
		return -ENOMEM;
	priv->stats = kzalloc(256, GFP_KERNEL); // expect: site=too-small-to-fail; too-small-to-fail; migrate target=GFP_NOFAIL
	if (!priv->stats) { // expect: dead-error-path dead_lines=2
		kfree(priv->rx.desc);
		return -ENOMEM;
	}
	priv->name = kasprintf(GFP_KERNEL, "acme%d", count); // expect: site=unknown reasons=size-unknown
	if (!priv->name)
		return -ENOMEM;
	return 0;
}

void *acme_firmware_buffer(void)
{
	/* The firmware image is 6 MiB: kmalloc cannot serve that. */
	return kmalloc(6 << 20, GFP_KERNEL); // expect: site=always-fails; always-fails
}

/* The transmit path runs with bottom halves disabled: it must not sleep. */
static int acme_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct acme_desc *desc = kmalloc(sizeof(*desc), GFP_KERNEL); // expect: site=too-small-to-fail; too-small-to-fail; sleep-in-atomic

	if (!desc) // expect: dead-error-path
		return -ENOMEM;
	kfree(desc);
	return 0;
}

static const struct net_device_ops acme_netdev_ops = {
	.ndo_start_xmit = acme_start_xmit,
};

static spinlock_t acme_stats_lock;

void acme_update_stats(struct acme_priv *priv)
{
	spin_lock(&acme_stats_lock);
	priv->stats = kzalloc(512, GFP_KERNEL | __GFP_NOFAIL); // expect: site=nofail; sleep-in-atomic; nofail-misuse
	spin_unlock(&acme_stats_lock);
}

// SPDX-License-Identifier: GPL-2.0
/* Input of the SARIF golden test (tests/test_sarif.py): one finding of most rules. */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/gfp.h>

struct frob { int n; char name[32]; };

int frob_init(struct frob **out)
{
	struct frob *f = kzalloc(sizeof(*f), GFP_KERNEL); // expect: site=too-small-to-fail; too-small-to-fail; migrate target=GFP_NOFAIL
	if (!f) // expect: dead-error-path dead_lines=1
		return -ENOMEM;
	*out = f;
	return 0;
}

char *frob_rx(const char *src, unsigned short len)
{
	/* größe: the byte column of the call below is not its character column */ char *b = kmalloc(len, GFP_ATOMIC); // expect: site=may-fail; unchecked-may-fail; migrate target=GFP_ATOMIC
	memcpy(b, src, len);
	return b;
}

void *frob_table(void)
{
	return kmalloc(8 << 20, GFP_KERNEL); // expect: site=always-fails; always-fails
}

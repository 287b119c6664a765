// SPDX-License-Identifier: GPL-2.0
/* tinyfs: a pretend filesystem whose mount path allocates like a real one. */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/gfp.h>

struct tinyfs_inode { unsigned long ino; u16 name_len; char name[32]; };
struct tinyfs_sb {
	struct tinyfs_inode *root;
	char *label;
	unsigned long *bitmap;
	void *journal;
	int blocks;
};

static struct kmem_cache *tinyfs_inode_cachep;
int tinyfs_read_block(struct tinyfs_sb *sb, int nr, void *buf);

int tinyfs_init_caches(void)
{
	tinyfs_inode_cachep = KMEM_CACHE(tinyfs_inode, SLAB_HWCACHE_ALIGN); // expect: site=unknown reasons=not-modelled
	if (!tinyfs_inode_cachep)
		return -ENOMEM;
	return 0;
}

static struct tinyfs_inode *tinyfs_alloc_inode(void)
{
	/* GFP_NOFS: we may be called with filesystem locks held */
	return kmem_cache_alloc(tinyfs_inode_cachep, GFP_NOFS); // expect: site=too-small-to-fail; too-small-to-fail
}

int tinyfs_fill_super(struct tinyfs_sb *sb, const char *label)
{
	int err;

	sb->root = tinyfs_alloc_inode(); // expect: site=too-small-to-fail via=tinyfs_alloc_inode; too-small-to-fail; migrate target=GFP_NOFAIL
	if (!sb->root) // expect: dead-error-path dead_lines=1
		return -ENOMEM;

	sb->label = kmalloc(sizeof_field(struct tinyfs_inode, name), GFP_NOFS); // expect: site=too-small-to-fail; too-small-to-fail; migrate target=GFP_NOFAIL
	if (!sb->label) { // expect: dead-error-path dead_lines=2 live_labels=out_root
		err = -ENOMEM;
		goto out_root;
	}

	sb->bitmap = kcalloc(sb->blocks, sizeof(unsigned long), GFP_NOFS); // expect: site=may-fail reasons=overflow
	if (!sb->bitmap) {
		err = -ENOMEM;
		goto out_label;
	}

	sb->journal = (void *)__get_free_pages(GFP_NOFS, 4); // expect: site=may-fail reasons=costly-order
	if (!sb->journal) {
		err = -ENOMEM;
		goto out_bitmap;
	}

	err = tinyfs_read_block(sb, 0, sb->journal);
	if (err)
		goto out_journal;
	return 0;

out_journal:
	free_pages((unsigned long)sb->journal, 4);
out_bitmap:
	kfree(sb->bitmap);
out_label:
	kfree(sb->label);
out_root:
	kfree(sb->root);
	return err;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * kcourier.ko: session keys that never leave the kernel.
 *
 * /dev/kcourier takes the requests of <linux/kcourier.h> as ioctls or as
 * io_uring IORING_OP_URING_CMD: UNWRAP turns an RSA-OAEP wrapped session
 * key into two logon keys, OPEN and SEAL run batches of messages under
 * such keys, VERSION and STATS describe the module. Each open file has
 * its own cache of transforms and its own list of the keys it made, all
 * given back when it is closed.
 */
#include <linux/fs.h>
#include <linux/io_uring/cmd.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kc_internal.h"

struct kc_counts kc_counts;

static int kc_open(struct inode *inode, struct file *file)
{
	struct kc_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	xa_init(&f->sessions);
	xa_init(&f->made);
	file->private_data = f;
	atomic_inc(&kc_counts.files);
	return 0;
}

static int kc_release(struct inode *inode, struct file *file)
{
	struct kc_file *f = file->private_data;

	kc_sessions_release(f);
	xa_destroy(&f->sessions);
	kc_keys_release(f);
	mutex_destroy(&f->lock);
	kfree(f);
	atomic_dec(&kc_counts.files);
	return 0;
}

static int kc_version(void __user *arg)
{
	struct kcourier_version v;

	if (copy_from_user(&v, arg, sizeof(v)))
		return -EFAULT;
	if (v.reserved[0] || v.reserved[1])
		return -EINVAL;
	v.api_version = KCOURIER_API_VERSION;
	v.max_batch = KCOURIER_MAX_BATCH;
	v.max_data = KCOURIER_MAX_DATA;
	v.max_aad = KCOURIER_MAX_AAD;
	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static int kc_stats(void __user *arg)
{
	struct kcourier_stats st;

	if (copy_from_user(&st, arg, sizeof(st)))
		return -EFAULT;
	if (st.reserved[0] || st.reserved[1])
		return -EINVAL;
	st.files = atomic_read(&kc_counts.files);
	st.sessions = atomic_read(&kc_counts.sessions);
	st.tfms = atomic_read(&kc_counts.tfms);
	st.keys = atomic_read(&kc_counts.keys);
	return copy_to_user(arg, &st, sizeof(st)) ? -EFAULT : 0;
}

/* One request, from an ioctl or a uring_cmd alike. */
static long kc_dispatch(struct kc_file *f, unsigned int cmd, void __user *arg)
{
	switch (cmd) {
	case KCOURIER_IOC_VERSION:
		return kc_version(arg);
	case KCOURIER_IOC_UNWRAP:
		return kc_unwrap(f, arg);
	case KCOURIER_IOC_OPEN:
		return kc_batch(f, false, arg);
	case KCOURIER_IOC_SEAL:
		return kc_batch(f, true, arg);
	case KCOURIER_IOC_STATS:
		return kc_stats(arg);
	default:
		return -ENOTTY;
	}
}

static long kc_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return kc_dispatch(file->private_data, cmd, (void __user *)arg);
}

/*
 * The batch runs here, in the submitter's io_uring_enter(), and its
 * result is the CQE's: the crypto is CPU work with nothing to wait for,
 * so handing it to an io-wq thread would only add a switch.
 */
static int kc_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	const struct kcourier_uring_cmd *uc = io_uring_sqe_cmd(ioucmd->sqe);
	u64 arg = READ_ONCE(uc->arg);

	if (READ_ONCE(uc->reserved))
		return -EINVAL;
	return kc_dispatch(ioucmd->file->private_data, ioucmd->cmd_op,
			   u64_to_user_ptr(arg));
}

static const struct file_operations kc_fops = {
	.owner = THIS_MODULE,
	.open = kc_open,
	.release = kc_release,
	.unlocked_ioctl = kc_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.uring_cmd = kc_uring_cmd,
};

static struct miscdevice kc_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kcourier",
	.fops = &kc_fops,
	.mode = 0600,
};

static int __init kc_init(void)
{
	return misc_register(&kc_misc);
}

static void __exit kc_exit(void)
{
	misc_deregister(&kc_misc);
	/* Every file is closed by now (each held the module): all is back. */
	if (atomic_read(&kc_counts.sessions) || atomic_read(&kc_counts.tfms) ||
	    atomic_read(&kc_counts.keys))
		pr_err_ratelimited("kcourier: leaked sessions %d tfms %d keys %d\n",
				   atomic_read(&kc_counts.sessions),
				   atomic_read(&kc_counts.tfms),
				   atomic_read(&kc_counts.keys));
}

module_init(kc_init);
module_exit(kc_exit);

MODULE_DESCRIPTION("kcourier: in-kernel session keys and batched message crypto");
MODULE_AUTHOR("kcourier developers");
MODULE_LICENSE("GPL");

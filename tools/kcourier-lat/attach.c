// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading and attaching with libbpf (see attach.h). The probe check reads
 * the binary's .note.stapsdt with libelf before libbpf does, so that a
 * binary without probes gets a sentence, not libbpf's -ENOENT.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "kcourier_lat.skel.h"

#define BTF_PATH "/sys/kernel/btf/vmlinux"
#define PROVIDER "kcourier"

static int say(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return err;
}

/* A stapsdt note's description: three addresses, then provider\0name\0. */
static bool note_is_ours(const char *desc, size_t len)
{
	size_t skip = 3 * sizeof(uint64_t);

	return len > skip + sizeof(PROVIDER) && !strcmp(desc + skip, PROVIDER);
}

static bool scn_has_probe(Elf_Scn *scn)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)))
		if (nh.n_namesz == sizeof("stapsdt") &&
		    !memcmp((char *)d->d_buf + name_off, "stapsdt",
			    nh.n_namesz) &&
		    note_is_ours((char *)d->d_buf + desc_off, nh.n_descsz))
			return true;
	return false;
}

static bool has_probes(Elf *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOTE &&
		    scn_has_probe(scn))
			return true;
	return false;
}

static int check_binary(const char *binary, char *why, size_t why_len)
{
	int fd = open(binary, O_RDONLY | O_CLOEXEC);
	bool found = false;
	Elf *e;

	if (fd < 0)
		return say(why, why_len, -ENOENT, "%s: %s", binary,
			   strerror(errno));
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e) {
		found = has_probes(e);
		elf_end(e);
	}
	close(fd);
	if (!found)
		return say(why, why_len, -ENODATA,
			   "%s has no " PROVIDER " USDT probes (readelf -n "
			   "lists none): not kcourierd, or built without "
			   "sys/sdt.h",
			   binary);
	return 0;
}

int lat_check_root(char *why, size_t why_len)
{
	if (geteuid() != 0)
		return say(why, why_len, -EPERM,
			   "needs root: it loads BPF programs and attaches "
			   "uprobes (CAP_BPF, CAP_PERFMON)");
	return 0;
}

int lat_check(const char *binary, char *why, size_t why_len)
{
	if (access(BTF_PATH, R_OK))
		return say(why, why_len, -ENOTSUP,
			   "the kernel has no BTF (" BTF_PATH "): its CO-RE "
			   "programs cannot be loaded here (a kernel built "
			   "with CONFIG_DEBUG_INFO_BTF=y has it)");
	return check_binary(binary, why, why_len);
}

/* libbpf's own messages: warnings only, not its debug chatter. */
static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

static int attach_one(struct bpf_program *prog, struct bpf_link **link,
		      const char *binary, pid_t pid, const char *name)
{
	*link = bpf_program__attach_usdt(prog, pid, binary, PROVIDER, name,
					 NULL);
	return *link ? 0 : -errno;
}

static int attach_all(struct kcourier_lat *s, const char *binary, pid_t pid,
		      const char **failed)
{
	struct {
		struct bpf_program *prog;
		struct bpf_link **link;
		const char *name;
	} t[] = {
		{ s->progs.msg_done, &s->links.msg_done, "msg_done" },
		{ s->progs.msg_deliver, &s->links.msg_deliver, "msg_deliver" },
		{ s->progs.msg_delivered, &s->links.msg_delivered,
		  "msg_delivered" },
		{ s->progs.commit_done, &s->links.commit_done, "commit_done" },
	};
	int ret = 0;

	for (size_t i = 0; !ret && i < sizeof(t) / sizeof(t[0]); i++) {
		ret = attach_one(t[i].prog, t[i].link, binary, pid, t[i].name);
		*failed = t[i].name;
	}
	return ret;
}

int lat_attach(struct lat_bpf *b, const char *binary, pid_t pid, char *why,
	       size_t why_len)
{
	const char *failed = "";
	int ret;

	libbpf_set_print(print_libbpf);
	b->skel = kcourier_lat__open_and_load();
	if (!b->skel)
		return say(why, why_len, -errno, "loading the BPF programs: %s",
			   strerror(errno));
	ret = attach_all(b->skel, binary, pid, &failed);
	if (ret) {
		lat_detach(b);
		return say(why, why_len, ret, "attaching to %s:%s in %s: %s",
			   PROVIDER, failed, binary, strerror(-ret));
	}
	b->hists_fd = bpf_map__fd(b->skel->maps.hists);
	return 0;
}

int lat_read(const struct lat_bpf *b, struct kl_hist h[KL_NSTAGES])
{
	for (__u32 i = 0; i < KL_NSTAGES; i++)
		if (bpf_map_lookup_elem(b->hists_fd, &i, &h[i]))
			return -errno;
	return 0;
}

void lat_detach(struct lat_bpf *b)
{
	kcourier_lat__destroy(b->skel);
	b->skel = NULL;
}

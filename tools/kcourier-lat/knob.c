// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sampling knob in a running agent: see knob.h. Symbols come from
 * libelf (the library libbpf itself reads ELF with); the load address
 * from /proc/PID/maps, which nothing else parses for us.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "knob.h"

#define KNOB_SYMBOL "kc_probe_sample"

/* The symbol's value in one symbol table section, or 0. */
static GElf_Addr find_in(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	GElf_Sym sym;

	for (size_t i = 0; d && i < n; i++) {
		const char *name;

		if (!gelf_getsym(d, (int)i, &sym))
			break;
		name = elf_strptr(e, sh->sh_link, sym.st_name);
		if (name && !strcmp(name, KNOB_SYMBOL))
			return sym.st_value;
	}
	return 0;
}

/* The symbol's link-time address and the lowest PT_LOAD's. */
static int elf_symbol(Elf *e, GElf_Addr *value, GElf_Addr *base)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Phdr ph;
	size_t nph;

	*value = 0;
	while ((scn = elf_nextscn(e, scn)) && !*value)
		if (gelf_getshdr(scn, &sh) &&
		    (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM))
			*value = find_in(e, scn, &sh);
	if (!*value || elf_getphdrnum(e, &nph))
		return -ENOENT;
	for (size_t i = 0; i < nph; i++)
		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD) {
			*base = ph.p_vaddr - ph.p_offset;
			return 0;
		}
	return -ENOENT;
}

static int read_symbol(const char *binary, GElf_Addr *value, GElf_Addr *base)
{
	int fd = open(binary, O_RDONLY | O_CLOEXEC), ret;
	Elf *e;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	ret = e ? elf_symbol(e, value, base) : -EINVAL;
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}

/* Where the executable's file offset 0 is mapped in pid. */
static int mapped_at(pid_t pid, const char *binary, uintptr_t *start)
{
	char path[64], line[PATH_MAX + 128], real[PATH_MAX];
	int ret = -ENOENT;
	FILE *f;

	if (!realpath(binary, real))
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (ret && fgets(line, sizeof(line), f)) {
		unsigned long lo, off;
		char file[PATH_MAX];

		if (sscanf(line, "%lx-%*x %*s %lx %*s %*s %4095s", &lo, &off,
			   file) == 3 &&
		    off == 0 && !strcmp(file, real)) {
			*start = lo;
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

int lat_knob_find(struct lat_knob *k, pid_t pid, const char *binary)
{
	GElf_Addr value = 0, base = 0;
	uintptr_t start;
	int ret = read_symbol(binary, &value, &base);

	if (!ret)
		ret = mapped_at(pid, binary, &start);
	if (ret)
		return ret;
	k->pid = pid;
	k->addr = start + (uintptr_t)(value - base);
	return 0;
}

int lat_knob_get(const struct lat_knob *k, uint32_t *value)
{
	struct iovec local = { value, sizeof(*value) };
	struct iovec remote = { (void *)k->addr, sizeof(*value) };

	if (process_vm_readv(k->pid, &local, 1, &remote, 1, 0) !=
	    (ssize_t)sizeof(*value))
		return -errno;
	return 0;
}

int lat_knob_set(const struct lat_knob *k, uint32_t value)
{
	struct iovec local = { &value, sizeof(value) };
	struct iovec remote = { (void *)k->addr, sizeof(value) };

	if (process_vm_writev(k->pid, &local, 1, &remote, 1, 0) !=
	    (ssize_t)sizeof(value))
		return -errno;
	return 0;
}

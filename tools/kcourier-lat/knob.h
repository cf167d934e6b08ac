/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's sampling knob (agent/ring/probes.h: kc_probe_sample), read
 * and written in a running agent from outside: its address from the
 * binary's symbol table and where the binary is mapped, then
 * process_vm_readv/writev. Nothing else of the agent is touched.
 */
#ifndef KC_LAT_KNOB_H
#define KC_LAT_KNOB_H

#include <stdint.h>
#include <sys/types.h>

struct lat_knob {
	pid_t pid;
	uintptr_t addr; /* in the agent's address space */
};

/* Finds the knob of process pid (binary: its executable). 0 or -errno. */
int lat_knob_find(struct lat_knob *k, pid_t pid, const char *binary);
int lat_knob_get(const struct lat_knob *k, uint32_t *value);
int lat_knob_set(const struct lat_knob *k, uint32_t value);

#endif

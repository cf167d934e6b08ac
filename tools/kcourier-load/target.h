/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KC_LOAD_TARGET_H
#define KC_LOAD_TARGET_H

#include "load.h"

/* With --dir: fills o->agent and o->pin. 0, or -1 after a message. */
int load_resolve_dir(struct load_opts *o);

#endif

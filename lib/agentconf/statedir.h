/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The files of an agent's state directory (`kcourierd init --dir DIR`),
 * by name: the agent keeps its keys, store and configuration there, and
 * tools on the same host (kcourier-load) read its CA certificate and
 * kcourierd.conf from it. What each file holds: agent/state.h.
 */
#ifndef KC_STATEDIR_H
#define KC_STATEDIR_H

#define KC_STATE_CA_CRT "ca.crt"
#define KC_STATE_CA_KEY "ca.key"
#define KC_STATE_TLS_CRT "tls.crt"
#define KC_STATE_TLS_KEY "tls.key"
#define KC_STATE_SEAL_CRT "seal.crt"
#define KC_STATE_SEAL_KEY "seal.key"
#define KC_STATE_STORE "store.db"
#define KC_STATE_CONFIG "kcourierd.conf"
/* The message log's folder: segments and checkpoint (msglog.h). */
#define KC_STATE_LOG "log"
#define KC_STATE_METRICS_SOCK "metrics.sock" /* the metrics thread's */
/* The running agent's control socket (agent/control.h), mode 0600. */
#define KC_STATE_CONTROL "control.sock"

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's hand-over of a connection's record layer to kernel TLS
 * (lib/tls/ktls.h does the keys), and what the ring must do differently
 * afterwards.
 *
 * When: the switch is only correct at a record boundary in both
 * directions. The ring reads ahead (a multishot recv may bring the
 * client's first records together with its Finished), so the switch is
 * tried right after the handshake and then at every flush until it fits:
 *   - the engine holds no ciphertext either way and GnuTLS has pulled no
 *     part of a record (kc_tls_passthrough_ready);
 *   - nothing of ours is on its way to the socket (no send in flight, no
 *     ciphertext in `wire`), since the kernel would encrypt it again;
 *   - the ring is IORING_SETUP_DEFER_TASKRUN and its completion queue is
 *     empty: then the kernel copies nothing from the socket into a
 *     provided buffer until the next io_uring_enter, so nothing can be
 *     read behind our back between the check and TLS_RX. Without
 *     DEFER_TASKRUN (kernels before 6.1) that cannot be promised and the
 *     connection stays on GnuTLS.
 * Until then the connection runs on GnuTLS; records are the same on the
 * wire either way, only the sequence numbers must carry over.
 *
 * After: the ring sends and receives plaintext. A recv that meets a
 * record other than application data fails with -EIO (IORING_OP_RECV has
 * no control buffer); kc_conn_ktls_recv_end() (conn_ktls.h) then reads that
 * record with recvmsg(2): close_notify ends the connection cleanly, any other
 * alert or a handshake message (a KeyUpdate, which this kernel path cannot
 * follow) closes it with a log line. -EBADMSG means a record failed
 * authentication: the kernel has already killed the socket.
 *
 * Fallback: no tls ULP (ENOENT), a suite the kernel path lacks or any
 * refused key keeps the connection on GnuTLS. Each connection's mode goes
 * to the log once decided, and into counters (kc_ktls_stats).
 */
#ifndef KC_AGENT_KTLS_H
#define KC_AGENT_KTLS_H

#include <stdbool.h>

#include "conn/tls.h"

enum kc_ktls_mode {
	KC_KTLS_UNDECIDED = 0, /* handshake, or waiting for a boundary */
	KC_KTLS_ON,	       /* the kernel has the record layer */
	KC_KTLS_OFF,	       /* GnuTLS keeps it for good */
};

/*
 * Engine and socket only, no ring: installs the keys and puts the engine
 * in pass-through. 0 done; -EBUSY not at a record boundary yet (nothing
 * changed, try again later); -ENOTRECOVERABLE half installed (close the
 * connection); any other -errno: nothing changed, stay on GnuTLS.
 */
int kc_tls_start_ktls(struct kc_tls_conn *t, int fd);

/* Connections decided so far, each way, since start (all workers). */
void kc_ktls_stats(unsigned long *on, unsigned long *off);
void kc_ktls_count(enum kc_ktls_mode mode);

#endif

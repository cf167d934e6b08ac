/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A real kcourierd for tests: `kcourierd init` in a fresh temporary state
 * directory, then `kcourierd run` as a child process on 127.0.0.1 with an
 * ephemeral port (it prints the port it got in its "listening on" line),
 * plus `token` and `revoke` through the same binary.
 *
 * The binary is $KC_BIN/kcourierd (tests/run-tests.sh sets KC_BIN). The
 * key passphrase comes from KCOURIER_PASSPHRASE; agent_proc_init sets a
 * test one if the environment has none. The agent's stderr goes to
 * agent.log beside the state directory (agent_proc_log_has() searches
 * it), the other commands' to tools.log there.
 */
#ifndef KC_TEST_AGENT_PROC_H
#define KC_TEST_AGENT_PROC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct agent_proc {
	char dir[128];	     /* state directory, under a mkdtemp one */
	char bin[PATH_MAX];  /* kcourierd */
	char log[160];	     /* the running agent's stderr */
	char tools_log[160]; /* stderr of init, token and revoke */
	char addr[64];	     /* "127.0.0.1:PORT", chosen at the first start */
	char pin[65];	     /* CA fingerprint printed by init */
	unsigned int workers;
	const char *crypto; /* `run --crypto` value; NULL: the agent's default */
	pid_t pid; /* 0 when not running */
};

/*
 * Makes the state directory with `kcourierd init`. Returns 0, -ENOENT
 * when KC_BIN is unset (the caller SKIPs), or -errno.
 */
int agent_proc_init(struct agent_proc *a, unsigned int workers);
/*
 * Sets `key = value` in kcourierd.conf (replacing the line init wrote,
 * commented out or not); takes effect at the next start. 0 or -errno.
 */
int agent_proc_config(struct agent_proc *a, const char *key, const char *value);
/* Starts `kcourierd run` and waits until it is listening. 0 or -errno. */
int agent_proc_start(struct agent_proc *a);
/* SIGTERM and wait: returns the exit status (0 for a clean stop). */
int agent_proc_stop(struct agent_proc *a);
/* SIGKILL and wait: the crash case. */
void agent_proc_kill(struct agent_proc *a);
/* Stops a running agent (if any) and removes the state directory. */
void agent_proc_destroy(struct agent_proc *a);

/* `kcourierd token --dir DIR`: one token (64 hex digits). */
int agent_proc_token(struct agent_proc *a, char token[65]);
/* `kcourierd revoke --dir DIR ID`. */
int agent_proc_revoke(struct agent_proc *a, const char *id);
/* `kcourierd rotate-seal --dir DIR`. */
int agent_proc_rotate_seal(struct agent_proc *a);

/* Copies the agent's log to stderr (after a failure). */
void agent_proc_dump_log(const struct agent_proc *a);
/*
 * A fixture's end: stops the agent if it runs and, when that fails or
 * the test did (failed), copies its log to stderr. The stop's status.
 */
int agent_proc_finish(struct agent_proc *a, bool failed);
/* Whether the running agent's log contains text. */
bool agent_proc_log_has(const struct agent_proc *a, const char *text);
/*
 * The counters of the agent's last "stats:" log line (written at a clean
 * stop and on SIGUSR1): connections on kernel TLS and on GnuTLS's record
 * layer. 0, or -ENOENT when the log has no such line.
 */
int agent_proc_record_layers(const struct agent_proc *a, unsigned long *ktls,
			     unsigned long *gnutls);
#define AGENT_PROC_STATS_LINE "stats: record layer of connections so far: "
/*
 * The serial of the running agent's "kcourier" keyring, from its
 * "listening on" line: the ring is in the agent's process keyring, so a
 * test finds it only this way (and /proc/keys). The serial, -ENOENT or
 * -EPROTO.
 */
int agent_proc_keyring(const struct agent_proc *a);
#define AGENT_PROC_KEYRING_LINE "keyring kcourier (serial "
/*
 * The rest of the line after the last text in the log (at most cap - 1
 * bytes) into rest; false when text is not there.
 */
bool agent_proc_log_after(const struct agent_proc *a, const char *text,
			  char *rest, size_t cap);

/*
 * The keyring type of the agent's session keys under its tier: "logon"
 * for the kernel tiers (afalg, kmod), "user" for the user tier's mirror.
 */
const char *agent_proc_key_type(const struct agent_proc *a);

#endif

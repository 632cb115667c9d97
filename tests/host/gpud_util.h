/* SPDX-License-Identifier: MIT */
/*
 * What test_gpud needs around the real gpud: start it as a child process
 * with its stderr captured (the port comes from its "listening on" line),
 * stop it, and talk to it over TCP with the wire codec. Every socket has
 * timeouts, so a misbehaving gpud fails a test instead of hanging it.
 */
#ifndef EIA_TEST_GPUD_UTIL_H
#define EIA_TEST_GPUD_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "wire.h"

/* Every client socket's send and receive timeout. */
#define CLIENT_TIMEOUT_MS	5000

struct gpud_proc {
	pid_t pid;
	uint16_t port;
	int status;		/* wait status, once reaped */
	bool reaped;
	char conf[64];		/* temporary config file, if any */
	int out_fd;		/* read end of gpud's stdout and stderr */
	bool reader_started;
	pthread_t reader;
	pthread_mutex_t lock;
	pthread_cond_t grew;
	char *log;		/* all gpud wrote, NUL-terminated */
	size_t len, cap;
	bool eof;		/* gpud closed its output: it has exited */
};

/* Path of the gpud under test: $EIA_GPUD, else the ASan build. */
const char *gpud_path(void);

/*
 * Run gpud with --listen 127.0.0.1:0 --backend cpu (so that a machine with
 * a GPU runs the same tests; a --backend in @args overrides it), with @conf
 * (if not NULL) written to a temporary file passed as --config, and the
 * NULL-terminated @args after.
 * Returns 0 or -1; does not wait for it to listen.
 */
int gpud_spawn(struct gpud_proc *g, const char *conf, const char *const *args);

/* gpud_spawn() and wait for "listening on 127.0.0.1:PORT". Returns 0 or -1. */
int gpud_start(struct gpud_proc *g, const char *conf, const char *const *args);

/* True once the log holds @needle; waits up to @timeout_ms for it. */
bool gpud_log_wait(struct gpud_proc *g, const char *needle, int timeout_ms);

/* Waits up to @timeout_ms for gpud to exit; returns its wait status or -1. */
int gpud_wait(struct gpud_proc *g, int timeout_ms);

/*
 * SIGTERM, then wait (SIGKILL after a timeout), then collect the whole log
 * and remove the config. Returns the wait status (-1 if it had to be killed).
 * Safe to call again, and on a gpud that already exited.
 */
int gpud_stop(struct gpud_proc *g);

/* Free what gpud_spawn() allocated; after gpud_stop(). */
void gpud_free(struct gpud_proc *g);

/* True when the log holds @needle now. */
bool gpud_log_has(struct gpud_proc *g, const char *needle);

/* The number right after the first @needle in the log, or 0. */
unsigned long gpud_log_number(struct gpud_proc *g, const char *needle);

/* How many times @needle occurs in the log now. */
unsigned int gpud_log_count(struct gpud_proc *g, const char *needle);

/* True when the log holds no ASan, LSan or UBSan report. */
bool gpud_sanitizer_clean(struct gpud_proc *g);

/* A TCP connection to gpud with timeouts; returns the fd or -errno. */
int client_connect(uint16_t port);

/* A received message; the payload is kept as bytes, decoded by the helpers. */
struct reply {
	struct eia_msg_hdr hdr;
	unsigned char payload[8192];
};

/* Header @h (already in wire order) and @len bytes of payload, as they are. */
int send_raw(int fd, const struct eia_wire_hdr *h, const void *payload, size_t len);

/* eia_wire_recv() into @r. */
int recv_reply(int fd, struct reply *r);

/* A HELLO request payload. */
void hello_req(struct eia_wire_hello_req *req, const char *type, const char *resume_id);

/*
 * Send HELLO and receive its reply into @r (decoded into @resp on success).
 * Returns the reply's status (0 or a positive errno) or a negative errno for
 * I/O errors.
 */
int do_hello(int fd, const char *type, const char *resume_id, uint64_t tag,
	     struct reply *r, struct eia_wire_hello_resp *resp);

/* PING with @cookie and @delay_ms; returns status or -errno. */
int do_ping(int fd, uint64_t cookie, uint32_t delay_ms, uint64_t tag,
	    struct reply *r);

/* A decoded SERVER_STATUS. */
struct server_status {
	uint32_t sessions, connections, ntypes;
	char backend[16];
	struct {
		char type[EIA_TYPE_NAME_MAX];
		uint64_t memory_bytes;
		uint32_t fp32_mtflops, fp16_mtflops, in_use, available;
	} types[EIA_WIRE_MAX_TYPES];
};

/* SERVER_STATUS on @fd; returns status or -errno (-EPROTO if malformed). */
int do_status(int fd, struct server_status *st);

/* SERVER_STATUS over a fresh connection; returns status or -errno. */
int query_status(uint16_t port, struct server_status *st);

/* Index of @type in @st, or -1. */
int status_find(const struct server_status *st, const char *type);

/*
 * Polls until gpud reports @sessions sessions and @others connections
 * besides the asking one.
 */
bool wait_counts(uint16_t port, uint32_t sessions, uint32_t others, int timeout_ms);

/* True when the peer closed the connection (EOF or reset) within the timeout. */
bool peer_closed(int fd);

/* Milliseconds on the monotonic clock. */
long long now_ms(void);

#endif /* EIA_TEST_GPUD_UTIL_H */

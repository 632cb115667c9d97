/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the eia kselftests: the generic netlink family spoken
 * directly with libnl-genl (so that the tests see the kernel's exact errno,
 * not the CLI's interpretation of it), gpud's server status over the wire,
 * sysfs and /proc readers, and control of the local gpud and of eia.ko.
 *
 * Every function returning int gives 0 (or a count) on success and a
 * negative errno on failure, so tests can assert on the exact error.
 *
 * Environment: EIA_SERVER (gpud's HOST:PORT, default 127.0.0.1:8443),
 * EIA_KO (path of eia.ko, default /lib/modules/$(uname -r)/extra/eia.ko),
 * EIA_GPUD (gpud binary, default "gpud" from PATH), EIA_GPUD_CONFIG (a
 * config file for the gpud the tests start, as tests/vm/run's /init does).
 */
#ifndef EIA_TEST_LIB_H
#define EIA_TEST_LIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eia_cmdbuf.h"
#include "eia_ioctl.h"
#include "eia_netlink.h"
#include "eia_wire.h"

struct nl_msg;
struct nl_sock;

#define EIA_DEFAULT_SERVER	"127.0.0.1:8443"
#define EIA_GPUD_PIDFILE	"/run/gpud.pid"
#define EIA_GPUD_LOG		"/tmp/gpud.log"
#define EIA_DEV_NAME_MAX	16
#define EIA_ERRMSG_MAX		256

/* A device as described by an ATTACH/GET reply or an event. */
struct eia_dev {
	uint64_t present;	/* bit (1 << EIA_ATTR_x) set for each attribute seen */
	uint32_t index;
	uint32_t status;
	uint32_t timeout_ms;
	uint32_t fp32_mtflops;
	uint32_t fp16_mtflops;
	uint64_t memory_total;
	uint64_t memory_used;
	uint64_t requests;
	uint64_t errors;
	uint64_t bytes_sent;
	uint64_t bytes_received;
	char name[EIA_DEV_NAME_MAX];
	char type[EIA_TYPE_NAME_MAX];
	char accel_id[EIA_ACCEL_ID_MAX];
	char server[EIA_SERVER_NAME_MAX];
	uint8_t cmd;		/* the genl command of the message */
};

static inline bool eia_dev_has(const struct eia_dev *d, int attr)
{
	return d->present & (1ull << attr);
}

/* A request socket for the eia family. */
struct eia_nl {
	struct nl_sock *sk;
	int family;
	char errmsg[EIA_ERRMSG_MAX];	/* extended-ack message of the last error */
};

int eia_nl_open(struct eia_nl *nl);
void eia_nl_close(struct eia_nl *nl);

/* Starts a request of @cmd (flags: 0 or NLM_F_DUMP); add attributes with nla_put*(). */
struct nl_msg *eia_nl_msg(struct eia_nl *nl, uint8_t cmd, int flags);

/*
 * Sends @msg (and frees it), collects up to @max reply messages into @devs
 * (may be NULL) and waits for the ack or the end of the dump.
 * Returns the number of replies seen or the negative errno of the ack.
 */
int eia_nl_request(struct eia_nl *nl, struct nl_msg *msg, struct eia_dev *devs, int max);

/* ATTACH over @fd; @timeout_ms and @server are left out when 0 / NULL. */
int eia_attach_fd(struct eia_nl *nl, int fd, const char *type, uint32_t timeout_ms,
		  const char *server, struct eia_dev *out);
/* Connects to EIA_SERVER, attaches, closes the caller's copy of the fd. */
int eia_attach(struct eia_nl *nl, const char *type, uint32_t timeout_ms, struct eia_dev *out);
int eia_detach(struct eia_nl *nl, uint32_t index);
int eia_reconfigure_fd(struct eia_nl *nl, uint32_t index, int fd);
/* Connects to EIA_SERVER again and gives device @index that connection. */
int eia_reattach(struct eia_nl *nl, uint32_t index);
int eia_get(struct eia_nl *nl, uint32_t index, struct eia_dev *out);
/* Dump of all devices into @devs; returns how many there are. */
int eia_dump(struct eia_nl *nl, struct eia_dev *devs, int max);
/* Detaches every device; returns how many were detached. */
int eia_detach_all(struct eia_nl *nl);

/* A socket subscribed to the "events" multicast group. */
struct eia_events {
	struct nl_sock *sk;
	int family;
	int nqueued;
	struct eia_dev queue[32];
};

int eia_events_open(struct eia_events *ev);
void eia_events_close(struct eia_events *ev);
/*
 * Waits up to @timeout_ms for an event @cmd about device @index, consuming
 * it (and the events before it). Returns 0 or -ETIMEDOUT.
 */
int eia_events_wait(struct eia_events *ev, uint8_t cmd, uint32_t index, int timeout_ms,
		    struct eia_dev *out);

/* gpud's EIA_MSG_SERVER_STATUS, in CPU byte order. */
struct eia_type_info {
	char type[EIA_TYPE_NAME_MAX];
	uint64_t memory_bytes;
	uint32_t fp32_mtflops;
	uint32_t fp16_mtflops;
	uint32_t in_use;
	uint32_t available;
};

struct eia_server_status {
	uint32_t sessions;
	uint32_t connections;
	char backend[16];
	uint32_t ntypes;
	struct eia_type_info types[EIA_WIRE_MAX_TYPES];
};

const char *eia_server(void);
/* A TCP connection to HOST:PORT; returns the fd or a negative errno. */
int eia_connect(const char *hostport);
int eia_server_status(struct eia_server_status *st);
const struct eia_type_info *eia_server_type(const struct eia_server_status *st,
					    const char *type);
/* Polls the server status until sessions == @want; returns the last count seen. */
int eia_wait_sessions(uint32_t want, int timeout_ms);

/* /sys/class/eia/@dev/@attr with the trailing newline removed. */
int eia_sysfs_read(const char *dev, const char *attr, char *buf, size_t len);
int eia_sysfs_u64(const char *dev, const char *attr, uint64_t *val);
/* Entries in /sys/class/eia (0 when the class does not exist). */
int eia_sysfs_count(void);
/* Polls sysfs status until it reads @want; 0 or -ETIMEDOUT. */
int eia_wait_status(const char *dev, const char *want, int timeout_ms);

/* "inuse" of the TCP line of /proc/net/sockstat. */
int eia_tcp_inuse(void);
/* Polls until TCP inuse is at most @max; returns the last value read. */
int eia_wait_tcp_inuse(int max, int timeout_ms);

/* True when gpud is ours to stop and start: EIA_SERVER is on this machine's loopback. */
bool eia_gpud_local(void);
bool eia_gpud_listening(void);
/*
 * Signals the gpud of EIA_GPUD_PIDFILE; waits until SIGKILL has closed its
 * listening socket, or until SIGSTOP has stopped all its threads.
 */
int eia_gpud_kill(int sig);
int eia_gpud_start(void);	/* starts gpud on EIA_SERVER, waits until it listens */
int eia_gpud_ensure(void);	/* starts gpud unless it listens already */

bool eia_module_loaded(void);
int eia_module_load(void);
/* Loads eia.ko with module parameters ("max_devices=2"). */
int eia_module_load_params(const char *params);
/* /sys/module/eia/parameters/@name as a number. */
int eia_module_param(const char *name, uint64_t *val);
int eia_module_unload(void);	/* delete_module("eia", O_NONBLOCK) */

/*
 * Everything a test needs to start from a known state: eia.ko loaded, gpud
 * answering (started when local), @nl open, no device attached and (within
 * 5 s) no gpud session left from an earlier test.
 */
int eia_test_prepare(struct eia_nl *nl);

/* Drops CAP_NET_ADMIN from every capability set of this process. */
int eia_drop_cap_net_admin(void);
/* Becomes nobody (uid/gid 65534, no groups), which drops all capabilities. */
int eia_become_nobody(void);

#define EIA_RUN_AS_NOBODY	(1u << 0)

/*
 * Runs @argv (PATH lookup) with its output captured, killing it after
 * @timeout_ms. Returns its exit status, or a negative errno when it could not
 * run or had to be killed.
 */
int eia_run(char *const argv[], unsigned int flags, int timeout_ms,
	    char *out, size_t outlen, char *err, size_t errlen);

/* Opens /dev/@name read-write; the fd or a negative errno. */
int eia_open_dev(const char *name);
/* EIA_IOCTL_PING with @delay_ms; fills @ping. 0 or a negative errno. */
int eia_ping(int fd, uint64_t cookie, uint32_t delay_ms, struct eia_ping *ping);

/* A PING running in a thread, to have a request in flight. */
struct eia_bg_ping {
	int fd;
	uint32_t delay_ms;
	int ret;
	int64_t done_ms;	/* eia_now_ms() when the ioctl returned */
	pthread_t thread;
};

int eia_bg_ping_start(struct eia_bg_ping *bg, int fd, uint32_t delay_ms);
/* Waits for the thread; returns the PING's result. */
int eia_bg_ping_join(struct eia_bg_ping *bg);
/* Polls GET until device @index has sent more than @requests requests. */
int eia_wait_requests(struct eia_nl *nl, uint32_t index, uint64_t requests, int timeout_ms);

int64_t eia_now_ms(void);
void eia_sleep_ms(int ms);

/*
 * A command buffer being built (uapi/eia_cmdbuf.h). Each eia_cbuf_*() appends
 * one command and returns it, so that a test can spoil a field; NULL when
 * the buffer is full.
 */
struct eia_cbuf {
	uint64_t *buf;		/* EIA_CB_ALIGN-aligned */
	size_t len;		/* bytes used */
	size_t cap;
	uint32_t ncmds;
};

int eia_cbuf_init(struct eia_cbuf *cb, size_t cap);
void eia_cbuf_fini(struct eia_cbuf *cb);
void eia_cbuf_reset(struct eia_cbuf *cb);
/* A zeroed command of @size bytes with its header filled in. */
void *eia_cbuf_add(struct eia_cbuf *cb, uint16_t op, uint32_t size);
struct eia_cb_mem_alloc *eia_cbuf_alloc(struct eia_cbuf *cb, uint64_t bytes);
struct eia_cb_mem_free *eia_cbuf_free(struct eia_cbuf *cb, uint64_t handle);
struct eia_cb_copy *eia_cbuf_h2d(struct eia_cbuf *cb, uint64_t dst, uint64_t dst_offset,
				 const void *src, uint64_t bytes);
struct eia_cb_copy *eia_cbuf_d2h(struct eia_cbuf *cb, void *dst, uint64_t src,
				 uint64_t src_offset, uint64_t bytes);
struct eia_cb_copy *eia_cbuf_d2d(struct eia_cbuf *cb, uint64_t dst, uint64_t dst_offset,
				 uint64_t src, uint64_t src_offset, uint64_t bytes);
struct eia_cb_memset *eia_cbuf_memset(struct eia_cbuf *cb, uint64_t dst, uint64_t dst_offset,
				      uint64_t bytes, uint32_t value);
struct eia_cb_fence *eia_cbuf_fence(struct eia_cbuf *cb, uint64_t value);
/* LAUNCH_OP: @tensors holds the inputs then the outputs. */
struct eia_cb_launch_op *eia_cbuf_launch(struct eia_cbuf *cb, uint32_t op, uint16_t ninputs,
					 uint16_t noutputs, const struct eia_cb_tensor *tensors,
					 const void *attr, uint32_t attr_size);
/* A tensor description of @ndim dimensions from @dims. */
struct eia_cb_tensor eia_tensor(uint64_t handle, uint64_t offset, uint32_t dtype,
				uint32_t ndim, const int64_t *dims);

/* The struct eia_submit of @cb. */
struct eia_submit eia_cbuf_submit_args(const struct eia_cbuf *cb, struct eia_cb_result *results);
/*
 * EIA_IOCTL_SUBMIT of @cb: 0 or -errno (the failing command's status or the
 * submit's error). @results (cb->ncmds entries) and @failed may be NULL.
 */
int eia_submit_cbuf(int fd, const struct eia_cbuf *cb, struct eia_cb_result *results,
		    uint32_t *failed);
/* One MEM_ALLOC / MEM_FREE through EIA_IOCTL_SUBMIT. */
int eia_mem_alloc(int fd, uint64_t bytes, uint64_t *handle);
int eia_mem_free(int fd, uint64_t handle);
/* Polls sysfs memory_used_bytes until it reads @want; 0 or -ETIMEDOUT. */
int eia_wait_memory_used(const char *dev, uint64_t want, int timeout_ms);
/* A counter of /proc/vmstat. */
int eia_vmstat(const char *name, uint64_t *val);

/* The default accelerator types of DESIGN.md. */
struct eia_default_type {
	const char *name;
	uint64_t memory_bytes;
	uint32_t fp32_mtflops;
	uint32_t fp16_mtflops;
};

extern const struct eia_default_type eia_default_types[6];

#endif /* EIA_TEST_LIB_H */

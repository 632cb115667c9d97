/* SPDX-License-Identifier: MIT */
/*
 * libeia's private header: the device, stream and command buffer structs,
 * and what the two transports (eia.ko, tcp://) offer the rest.
 *
 * Lock order: a stream's lock, then (tcp://) the device's send_lock or its
 * io_lock, never both. An event has no lock of its own: it is guarded by
 * the lock of the stream it was recorded on.
 */
#ifndef EIA_LIBEIA_H
#define EIA_LIBEIA_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eia.h"
#include "eia_cmdbuf.h"
#include "eia_ioctl.h"
#include "eia_wire.h"

struct tcp_pending;

/* Both transports report "none failed" the same way. */
_Static_assert(EIA_SUBMIT_NONE_FAILED == EIA_WIRE_NONE_FAILED, "none-failed markers differ");

/* Command buffers one stream may have in flight on io_uring. */
#define EIA_STREAM_MAX_INFLIGHT	128
/* Most FENCE-only buffers held back to go to the driver together. */
#define EIA_STREAM_DEFER	64
/* A copy too large for one buffer fills a partly used one only with this much room. */
#define EIA_MIN_COPY_CHUNK	(256u << 10)
/* Bytes a tcp:// device reads off its socket at once: a small response whole. */
#define EIA_TCP_RX_BUF		4096
/* Default time gpud has to answer one tcp:// request. */
#define EIA_TCP_DEFAULT_TIMEOUT_MS	60000
#define EIA_TCP_DEFAULT_TYPE	"eia2.medium"

enum eia_dev_kind {
	EIA_DEV_KERNEL = EIA_TRANSPORT_KERNEL,
	EIA_DEV_TCP = EIA_TRANSPORT_TCP,
};

/**
 * struct eiaDevice - an open device: one context on the accelerator
 * @kind: how it is reached
 * @name: as opened
 * @max_payload: largest request payload gpud accepts
 * @nstreams: live streams (eiaDeviceClose() refuses while any)
 * @streams_made: streams created so far, to spread them over the context's
 *	queues
 * @fd: eia.ko: the open /dev/eiaN
 * @sock: tcp://: the connection
 * @send_lock: tcp://: one request at a time goes out on @sock
 * @io_lock: tcp://: guards @tag, @lost, @pending, @reading and @rx_target
 * @rx_turn: tcp://: signalled when a response was read, or @sock lost
 * @tag: tcp://: tag of the last request
 * @lost: tcp://: 0, or the errno that made @sock unusable
 * @pending: tcp://: the requests sent and not answered yet (transport_tcp.c:
 *	several threads' buffers may be in flight at once)
 * @reading: tcp://: a waiting thread is reading a response off @sock
 * @rx_target: tcp://: the request whose response it is reading into
 * @rx_pos, @rx_len: tcp://: the bytes of @rx_buf not handed out yet
 * @rx_buf: tcp://: what was read off @sock beyond what its reader asked
 *	for: the rest of a response, and the start of the next one. Only the
 *	connection's one reader uses it, @rx_pos and @rx_len (eia_tcp_open()
 *	before anyone else has the device, then the thread that set @reading),
 *	so they need no lock: @io_lock, taken to pass @reading on, orders a
 *	reader's use of them after the one before.
 * @ctx: tcp://: the context gpud created
 * @timeout_ms: tcp://: time gpud has to answer a request
 * @memory_used: tcp://: as the last SUBMIT response said
 * @type, @accel_id, @memory_total, @fp32_mtflops, @fp16_mtflops: tcp://:
 *	what HELLO granted
 */
struct eiaDevice {
	enum eia_dev_kind kind;
	char name[256];
	uint32_t max_payload;
	atomic_int nstreams;
	atomic_uint streams_made;
	int fd;
	int sock;
	pthread_mutex_t send_lock;
	pthread_mutex_t io_lock;
	pthread_cond_t rx_turn;
	uint64_t tag;
	int lost;
	struct tcp_pending *pending;
	bool reading;
	struct tcp_pending *rx_target;
	size_t rx_pos;
	size_t rx_len;
	uint64_t ctx;
	int timeout_ms;
	_Atomic uint64_t memory_used;
	char type[EIA_TYPE_NAME_MAX];
	char accel_id[EIA_ACCEL_ID_MAX];
	uint64_t memory_total;
	uint32_t fp32_mtflops;
	uint32_t fp16_mtflops;
	char rx_buf[EIA_TCP_RX_BUF];
};

/*
 * Where a command came from, to name it when it fails; and where its
 * result's value goes (MEM_ALLOC's handle).
 */
struct eia_origin {
	const char *function;
	uint64_t call;
	uint32_t op;
	uint64_t *value_out;
};

/**
 * struct eia_cmdbuf - a command buffer being filled, in flight, or free
 * @cmds: the commands as eia_cmdbuf.h lays them out, with user addresses
 *	(EIA_CB_ALIGN-aligned storage)
 * @bytes: bytes of @cmds used
 * @cap: bytes of @cmds allocated
 * @ncmds: commands in it
 * @ncap: entries of @results and @origin allocated
 * @data: H2D plus D2H bytes it moves
 * @results: one per command, written by the transport
 * @origin: one per command
 * @seq: the stream's sequence number of the buffer, from 1, at flush
 * @queue: the context's queue it runs on (its stream's), at flush
 * @ret: transport outcome: 0, or a negative errno
 * @failed: index of the failed command, or EIA_SUBMIT_NONE_FAILED
 * @msg: gpud's message when it refused the whole buffer, or ""
 * @done: completed (io_uring buffers complete out of retirement order)
 * @next: in the stream's in-flight FIFO or free list
 */
struct eia_cmdbuf {
	void *cmds;
	size_t bytes;
	size_t cap;
	uint32_t ncmds;
	uint32_t ncap;
	uint64_t data;
	struct eia_cb_result *results;
	struct eia_origin *origin;
	uint64_t seq;
	uint16_t queue;
	int ret;
	uint32_t failed;
	char msg[EIA_WIRE_ERRMSG_MAX];
	bool done;
	bool fences_only;	/* every command is a FENCE: no work to start */
	struct eia_cmdbuf *next;
};

/**
 * struct eiaStream - commands queued on a device, run in order
 * @dev: its device
 * @lock: guards everything below and the events recorded on it
 * @sync: buffers run synchronously at flush (tcp://, EIA_STREAM_SYNC)
 * @queue: the device context's queue its buffers run on (uapi/eia_cmdbuf.h):
 *	0 for the synchronous calls, 1 .. EIA_CB_QUEUES - 1 for the streams in
 *	turn, so that streams run side by side on gpud
 * @ring: eia.ko asynchronous streams: SQE128 and CQE32
 * @has_ring: @ring is set up
 * @ring_err: 0, or the error that made @ring unusable: every later flush
 *	fails with it (a failed io_uring_enter() may leave an SQE behind)
 * @cur: the buffer being filled, or NULL
 * @head, @tail: buffers in flight, oldest first
 * @ninflight: their number
 * @unsubmitted: of those, queued on @ring but not yet submitted: buffers of
 *	nothing but FENCEs wait there (at most EIA_STREAM_DEFER of them) for
 *	the next buffer with work, or for anything that waits or polls, and
 *	then go to the driver in one io_uring_enter()
 * @free: buffers to reuse
 * @nfree: their number
 * @next_seq: the sequence number the next flushed buffer gets
 * @done_seq: every buffer up to this one completed
 * @calls: calls that queued work, for naming a failed command
 * @failure: the first failure not yet reported, valid when @failed
 * @failed: whether @failure holds one
 * @events: events recorded on it and not recorded elsewhere since
 */
struct eiaStream {
	struct eiaDevice *dev;
	pthread_mutex_t lock;
	bool sync;
	uint16_t queue;
	struct io_uring ring;
	bool has_ring;
	int ring_err;
	struct eia_cmdbuf *cur;
	struct eia_cmdbuf *head;
	struct eia_cmdbuf *tail;
	unsigned int ninflight;
	unsigned int unsubmitted;
	struct eia_cmdbuf *free;
	unsigned int nfree;
	uint64_t next_seq;
	uint64_t done_seq;
	uint64_t calls;
	eiaFailure failure;
	bool failed;
	struct eiaEvent *events;
};

/**
 * struct eiaEvent - a FENCE in a stream
 * @stream: where it was last recorded, NULL before that or once the
 *	stream is gone (then it is complete)
 * @seq: the buffer holding its FENCE
 * @next: in @stream's list of events
 */
struct eiaEvent {
	struct eiaStream *stream;
	uint64_t seq;
	struct eiaEvent *next;
};

/* error.c */

/* Whether eiaInit() ran; every entry point but the error ones checks it. */
bool eia_initialized(void);

/* The eiaError_t for an errno (positive or negative). */
eiaError_t eia_error_from_errno(int err);

/*
 * Record a failure of @function in this thread's eiaGetLastFailure() and
 * return its error. @err is a negative or positive errno (0: @error alone).
 */
eiaError_t eia_fail(const char *function, eiaError_t error, int err,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* eia_fail() with the error derived from @err. */
#define eia_fail_errno(function, err, ...) \
	eia_fail(function, eia_error_from_errno(err), err, __VA_ARGS__)

/* Make @f this thread's last failure and return its error. */
eiaError_t eia_fail_set(const eiaFailure *f);

/* Fill @f for a buffer that failed (cb->ret != 0). */
void eia_failure_from_cmdbuf(eiaFailure *f, const struct eia_cmdbuf *cb);

/* ONNX-style name of an operator ("Gemm"), or NULL. */
const char *eia_op_name(uint32_t op);

/* Name of a command kind ("COPY_H2D"), or "command". */
const char *eia_cb_op_name(uint32_t op);

/* Check eiaInit() and a non-NULL argument; the failure, or EIA_SUCCESS. */
eiaError_t eia_check_entry(const char *function, const void *arg,
			   const char *argname);

/* memory.c */

/* Checks for a synchronous device call, then its private stream in @s. */
eiaError_t eia_sync_begin(struct eiaStream *s, eiaDevice_t dev, const char *fn);

/* Run what the synchronous call queued, report its failure, drop @s. */
eiaError_t eia_sync_end(struct eiaStream *s, const char *fn, eiaError_t err);

/* stream.c */

/* A stream without a ring that runs its buffers at flush, for the
 * synchronous device calls.
 */
void eia_stream_init_sync(struct eiaStream *s, struct eiaDevice *dev);

/* Tear down a stream set up by eia_stream_init_sync(). */
void eia_stream_fini(struct eiaStream *s);

/*
 * Append a command of @size bytes that moves @data bytes of data to the
 * buffer being filled, flushing first when it does not fit; *@cmd is the
 * command, zeroed but for its header. Under the stream's lock.
 */
eiaError_t eia_stream_add(struct eiaStream *s, const char *function, uint16_t op,
			  uint32_t size, uint64_t data, uint32_t launch_op,
			  uint64_t *value_out, void **cmd);

/*
 * *@room: the data bytes (at most @want) a copy command may carry now: as
 * many as fit in the buffer being filled, or in a new one when too few do
 * (the full one is flushed). Under the stream's lock.
 */
eiaError_t eia_stream_copy_room(struct eiaStream *s, const char *function,
				uint64_t want, uint64_t *room);

/* Flush the buffer being filled, if any (under the lock). */
eiaError_t eia_stream_flush_locked(struct eiaStream *s, const char *function);

/* Wait until every buffer up to @seq completed (under the lock). */
eiaError_t eia_stream_wait_locked(struct eiaStream *s, uint64_t seq,
				  const char *function);

/*
 * Reap completions without waiting (under the lock). Returns 0 or a
 * negative errno.
 */
int eia_stream_poll_locked(struct eiaStream *s);

/* Report and clear the stream's pending failure, if any (under the lock). */
eiaError_t eia_stream_take_failure(struct eiaStream *s);

/*
 * Begin a call that queues work: lock, count the call. eia_stream_end()
 * unlocks and passes @err through.
 */
eiaError_t eia_stream_begin(struct eiaStream *s, const char *function);
eiaError_t eia_stream_end(struct eiaStream *s, eiaError_t err);

/* transport_kernel.c */

int eia_kernel_open(struct eiaDevice *dev, const char *path);
void eia_kernel_close(struct eiaDevice *dev);
eiaError_t eia_kernel_props(struct eiaDevice *dev, eiaDeviceProp *prop);
/* Run @cb synchronously (EIA_IOCTL_SUBMIT); sets cb->ret and cb->failed. */
void eia_kernel_submit_sync(struct eiaDevice *dev, struct eia_cmdbuf *cb);
/* Set up the stream's ring; 0 or a negative errno. */
int eia_kernel_ring_init(struct eiaStream *s);
void eia_kernel_ring_fini(struct eiaStream *s);
/*
 * Queue @cb on the ring and, unless @defer, submit it with whatever waits
 * unsubmitted before it; 0 or a negative errno.
 */
int eia_kernel_ring_submit(struct eiaStream *s, struct eia_cmdbuf *cb, bool defer);
/*
 * Submit what waits unsubmitted, then reap completions, marking their
 * buffers done; first waits until @want of them (0: none) are there, so a
 * waiter for many buffers wakes once. Returns 0 or a negative errno.
 */
int eia_kernel_ring_reap(struct eiaStream *s, unsigned int want);

/* transport_tcp.c */

/* Connect, HELLO, CTX_CREATE. Records the failure; EIA_SUCCESS or it. */
eiaError_t eia_tcp_open(struct eiaDevice *dev, const char *url);
void eia_tcp_close(struct eiaDevice *dev);
eiaError_t eia_tcp_props(struct eiaDevice *dev, eiaDeviceProp *prop);
/* Run @cb synchronously (EIA_MSG_SUBMIT); sets cb->ret, failed, msg. */
void eia_tcp_submit_sync(struct eiaDevice *dev, struct eia_cmdbuf *cb);

#endif /* EIA_LIBEIA_H */

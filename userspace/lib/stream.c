// SPDX-License-Identifier: MIT
/*
 * Streams: commands are appended to the buffer being filled; a flush hands
 * it to the transport (io_uring, or a synchronous submit) and puts it in the
 * in-flight FIFO; buffers retire from the FIFO in order, which is where a
 * failure is recorded and results are delivered.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libeia.h"

/*
 * Free buffers a stream keeps for reuse; more are released. A batch's worth,
 * so that a stream that keeps batches in flight reuses its buffers instead
 * of allocating and freeing four blocks for each (about 7 KiB each, kept
 * only by a stream that had that many in flight).
 */
#define EIA_STREAM_KEEP_FREE	64
/* Buffers kept for reuse give back command storage beyond this. */
#define EIA_CMDBUF_KEEP_BYTES	(64u << 10)
#define EIA_CMDBUF_INIT_BYTES	4096u
#define EIA_CMDBUF_INIT_CMDS	64u

/* Per-buffer bytes of a SUBMIT request and its response besides commands. */
#define EIA_SUBMIT_OVERHEAD \
	(sizeof(struct eia_wire_submit) + sizeof(struct eia_wire_submit_resp))

static void cmdbuf_free(struct eia_cmdbuf *cb)
{
	free(cb->cmds);
	free(cb->results);
	free(cb->origin);
	free(cb);
}

static struct eia_cmdbuf *cmdbuf_get(struct eiaStream *s)
{
	struct eia_cmdbuf *cb = s->free;

	if (cb) {
		s->free = cb->next;
		s->nfree--;
		cb->next = NULL;
		return cb;
	}
	return calloc(1, sizeof(*cb));
}

static void cmdbuf_put(struct eiaStream *s, struct eia_cmdbuf *cb)
{
	cb->bytes = 0;
	cb->ncmds = 0;
	cb->data = 0;
	cb->seq = 0;
	cb->done = false;
	if (s->nfree >= EIA_STREAM_KEEP_FREE) {
		cmdbuf_free(cb);
		return;
	}
	if (cb->cap > EIA_CMDBUF_KEEP_BYTES) {
		free(cb->cmds);
		cb->cmds = NULL;
		cb->cap = 0;
	}
	cb->next = s->free;
	s->free = cb;
	s->nfree++;
}

/* Grow @cb so that one more command of @size bytes fits; 0 or -ENOMEM. */
static int cmdbuf_reserve(struct eia_cmdbuf *cb, uint32_t size)
{
	if (cb->bytes + size > cb->cap) {
		size_t cap = cb->cap ? cb->cap : EIA_CMDBUF_INIT_BYTES;
		void *p;

		while (cap < cb->bytes + size)
			cap *= 2;
		if (cap > EIA_CB_MAX_BYTES)
			cap = EIA_CB_MAX_BYTES;
		/* aligned_alloc() has no realloc: copy by hand. */
		p = aligned_alloc(EIA_CB_ALIGN, cap);
		if (!p)
			return -ENOMEM;
		if (cb->bytes)
			memcpy(p, cb->cmds, cb->bytes);
		free(cb->cmds);
		cb->cmds = p;
		cb->cap = cap;
	}
	if (cb->ncmds + 1 > cb->ncap) {
		uint32_t n = cb->ncap ? cb->ncap * 2 : EIA_CMDBUF_INIT_CMDS;
		struct eia_cb_result *r;
		struct eia_origin *o;

		if (n > EIA_CB_MAX_CMDS)
			n = EIA_CB_MAX_CMDS;
		r = realloc(cb->results, n * sizeof(*r));
		if (!r)
			return -ENOMEM;
		cb->results = r;
		o = realloc(cb->origin, n * sizeof(*o));
		if (!o)
			return -ENOMEM;
		cb->origin = o;
		cb->ncap = n;
	}
	return 0;
}

/*
 * Bytes of the largest request (or response) @cb could make: both carry
 * the buffer's own overhead; counting commands, results and data together
 * is an upper bound for each, and for the driver's check of H2D plus D2H
 * data against max_payload.
 */
static uint64_t cmdbuf_payload(const struct eia_cmdbuf *cb)
{
	return EIA_SUBMIT_OVERHEAD + cb->bytes +
	       (uint64_t)cb->ncmds * sizeof(struct eia_cb_result) + cb->data;
}

/* Whether a command of @size bytes moving @data bytes fits in @cb. */
static bool cmdbuf_fits(const struct eiaStream *s, const struct eia_cmdbuf *cb,
			uint32_t size, uint64_t data)
{
	return cb->ncmds < EIA_CB_MAX_CMDS && cb->bytes + size <= EIA_CB_MAX_BYTES &&
	       cmdbuf_payload(cb) + size + sizeof(struct eia_cb_result) + data <=
	       s->dev->max_payload;
}

void eia_stream_init_sync(struct eiaStream *s, struct eiaDevice *dev)
{
	memset(s, 0, sizeof(*s));
	s->dev = dev;
	s->sync = true;
	s->next_seq = 1;
	pthread_mutex_init(&s->lock, NULL);
}

void eia_stream_fini(struct eiaStream *s)
{
	struct eia_cmdbuf *cb;

	if (s->cur)
		cmdbuf_free(s->cur);
	while ((cb = s->free)) {
		s->free = cb->next;
		cmdbuf_free(cb);
	}
	if (s->has_ring)
		eia_kernel_ring_fini(s);
	pthread_mutex_destroy(&s->lock);
}

/* Hand out the results of a completed buffer and note its failure. */
static void cmdbuf_retire(struct eiaStream *s, struct eia_cmdbuf *cb)
{
	uint32_t ok = cb->ret ? (cb->failed < cb->ncmds ? cb->failed : 0) : cb->ncmds;
	uint32_t i;

	for (i = 0; i < ok; i++)
		if (cb->origin[i].value_out)
			*cb->origin[i].value_out = cb->results[i].value;
	if (cb->ret && !s->failed) {
		eia_failure_from_cmdbuf(&s->failure, cb);
		s->failed = true;
	}
	s->done_seq = cb->seq;
}

/* Retire the completed buffers at the head of the FIFO. */
static void stream_retire(struct eiaStream *s)
{
	struct eia_cmdbuf *cb;

	while ((cb = s->head) && cb->done) {
		s->head = cb->next;
		if (!s->head)
			s->tail = NULL;
		cmdbuf_retire(s, cb);
		cmdbuf_put(s, cb);
	}
}

static void fifo_push(struct eiaStream *s, struct eia_cmdbuf *cb)
{
	cb->next = NULL;
	if (s->tail)
		s->tail->next = cb;
	else
		s->head = cb;
	s->tail = cb;
}

static void run_sync(struct eiaStream *s, struct eia_cmdbuf *cb)
{
	if (s->dev->kind == EIA_DEV_TCP)
		eia_tcp_submit_sync(s->dev, cb);
	else
		eia_kernel_submit_sync(s->dev, cb);
	cb->done = true;
}

/* Make room for one more buffer in flight; 0 or a negative errno. */
static int wait_ring_slot(struct eiaStream *s)
{
	int ret;

	while (s->ninflight >= EIA_STREAM_MAX_INFLIGHT) {
		ret = eia_kernel_ring_reap(s, 1);
		if (ret)
			return ret;
	}
	return 0;
}

eiaError_t eia_stream_flush_locked(struct eiaStream *s, const char *function)
{
	struct eia_cmdbuf *cb = s->cur;
	int ret;

	if (!cb || !cb->ncmds)
		return EIA_SUCCESS;
	if (!s->sync) {
		ret = wait_ring_slot(s);
		if (ret)
			return eia_fail_errno(function, ret,
					      "waiting for io_uring completions: %s",
					      strerror(-ret));
	}
	s->cur = NULL;
	cb->seq = s->next_seq++;
	cb->queue = s->queue;
	cb->ret = 0;
	cb->failed = EIA_SUBMIT_NONE_FAILED;
	cb->msg[0] = '\0';
	cb->done = false;
	fifo_push(s, cb);
	if (s->sync) {
		run_sync(s, cb);
	} else {
		ret = eia_kernel_ring_submit(s, cb, cb->fences_only);
		if (ret) {
			/* Never reached the driver: complete it as refused. */
			cb->ret = ret;
			cb->done = true;
		} else {
			s->ninflight++;
		}
	}
	stream_retire(s);
	return EIA_SUCCESS;
}

int eia_stream_poll_locked(struct eiaStream *s)
{
	int ret = 0;

	if (!s->sync && s->ninflight)
		ret = eia_kernel_ring_reap(s, 0);
	stream_retire(s);
	return ret;
}

/* Buffers up to @seq still running: how many completions a waiter needs. */
static unsigned int pending_until(const struct eiaStream *s, uint64_t seq)
{
	const struct eia_cmdbuf *cb;
	unsigned int n = 0;

	for (cb = s->head; cb && cb->seq <= seq; cb = cb->next)
		n += !cb->done;
	return n ? n : 1;
}

eiaError_t eia_stream_wait_locked(struct eiaStream *s, uint64_t seq,
				  const char *function)
{
	int ret;

	while (s->done_seq < seq) {
		if (s->sync || !s->ninflight) {
			/* Only a buffer completed but not yet retired is left. */
			stream_retire(s);
			if (s->done_seq < seq)
				return eia_fail(function, EIA_ERROR_UNKNOWN, 0,
						"buffer %llu never completed",
						(unsigned long long)seq);
			break;
		}
		ret = eia_kernel_ring_reap(s, pending_until(s, seq));
		if (ret)
			return eia_fail_errno(function, ret,
					      "waiting for io_uring completions: %s",
					      strerror(-ret));
		stream_retire(s);
	}
	return EIA_SUCCESS;
}

eiaError_t eia_stream_take_failure(struct eiaStream *s)
{
	if (!s->failed)
		return EIA_SUCCESS;
	s->failed = false;
	return eia_fail_set(&s->failure);
}

eiaError_t eia_stream_add(struct eiaStream *s, const char *function, uint16_t op,
			  uint32_t size, uint64_t data, uint32_t launch_op,
			  uint64_t *value_out, void **cmd)
{
	struct eia_cmdbuf *cb;
	struct eia_cb_hdr *hdr;
	struct eia_origin *o;
	eiaError_t err;

	if (s->cur && !cmdbuf_fits(s, s->cur, size, data)) {
		err = eia_stream_flush_locked(s, function);
		if (err)
			return err;
	}
	if (!s->cur) {
		s->cur = cmdbuf_get(s);
		if (!s->cur)
			return eia_fail(function, EIA_ERROR_OUT_OF_MEMORY, ENOMEM,
					"no memory for a command buffer");
	}
	cb = s->cur;
	if (!cmdbuf_fits(s, cb, size, data))
		return eia_fail(function, data ? EIA_ERROR_TOO_LARGE : EIA_ERROR_INVALID_VALUE,
				data ? EMSGSIZE : EINVAL,
				"a %s command of %u bytes moving %llu bytes does not fit in a command buffer: the device takes requests of at most %u bytes",
				eia_cb_op_name(op), size, (unsigned long long)data,
				s->dev->max_payload);
	if (cmdbuf_reserve(cb, size))
		return eia_fail(function, EIA_ERROR_OUT_OF_MEMORY, ENOMEM,
				"no memory for a command buffer");
	hdr = (struct eia_cb_hdr *)((char *)cb->cmds + cb->bytes);
	memset(hdr, 0, size);
	hdr->op = op;
	hdr->size = size;
	o = &cb->origin[cb->ncmds];
	o->function = function;
	o->call = s->calls;
	o->op = launch_op;
	o->value_out = value_out;
	cb->fences_only = (cb->ncmds == 0 || cb->fences_only) && op == EIA_CB_FENCE;
	cb->bytes += size;
	cb->data += data;
	cb->ncmds++;
	*cmd = hdr;
	return EIA_SUCCESS;
}

eiaError_t eia_stream_copy_room(struct eiaStream *s, const char *function,
				uint64_t want, uint64_t *room)
{
	const uint64_t cmd = sizeof(struct eia_cb_copy) + sizeof(struct eia_cb_result) +
			     EIA_CB_ALIGN;
	const uint64_t max = s->dev->max_payload;
	/* What an empty buffer can carry. */
	const uint64_t fresh = max - EIA_SUBMIT_OVERHEAD - cmd;
	uint64_t used, r;
	eiaError_t err;

	if (s->cur && s->cur->ncmds) {
		used = cmdbuf_payload(s->cur) + cmd;
		r = s->cur->ncmds < EIA_CB_MAX_CMDS &&
		    s->cur->bytes + sizeof(struct eia_cb_copy) <= EIA_CB_MAX_BYTES &&
		    used < max ? max - used : 0;
		if (r >= want) {
			*room = want;
			return EIA_SUCCESS;
		}
		/*
		 * A copy that a buffer of its own would carry whole is not
		 * split; one that must be split anyway fills this one first.
		 */
		if (want > fresh && r >= EIA_MIN_COPY_CHUNK) {
			*room = r;
			return EIA_SUCCESS;
		}
		err = eia_stream_flush_locked(s, function);
		if (err)
			return err;
	}
	*room = fresh < want ? fresh : want;
	return EIA_SUCCESS;
}

eiaError_t eia_stream_begin(struct eiaStream *s, const char *function)
{
	eiaError_t err = eia_check_entry(function, s, "stream");

	if (err)
		return err;
	pthread_mutex_lock(&s->lock);
	s->calls++;
	return EIA_SUCCESS;
}

eiaError_t eia_stream_end(struct eiaStream *s, eiaError_t err)
{
	pthread_mutex_unlock(&s->lock);
	return err;
}

eiaError_t eiaStreamCreate(eiaStream_t *stream, eiaDevice_t dev, unsigned int flags)
{
	static const char fn[] = "eiaStreamCreate";
	eiaError_t err = eia_check_entry(fn, stream, "stream");
	struct eiaStream *s;
	int ret;

	if (err)
		return err;
	if (!dev)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL, "dev is NULL");
	if (flags & ~EIA_STREAM_SYNC)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL,
				"unknown flags %#x", flags & ~EIA_STREAM_SYNC);
	s = malloc(sizeof(*s));
	if (!s)
		return eia_fail(fn, EIA_ERROR_OUT_OF_MEMORY, ENOMEM, "no memory for a stream");
	eia_stream_init_sync(s, dev);
	s->sync = dev->kind == EIA_DEV_TCP || (flags & EIA_STREAM_SYNC);
	s->queue = (uint16_t)(1 + atomic_fetch_add(&dev->streams_made, 1) % (EIA_CB_QUEUES - 1));
	if (!s->sync) {
		ret = eia_kernel_ring_init(s);
		if (ret) {
			eia_stream_fini(s);
			free(s);
			if (ret == -ENOSYS || ret == -EPERM)
				return eia_fail(fn, EIA_ERROR_NOT_SUPPORTED, -ret,
						"io_uring with SQE128 and CQE32 is not available (%s): use EIA_STREAM_SYNC",
						strerror(-ret));
			return eia_fail_errno(fn, ret, "io_uring setup failed: %s",
					      strerror(-ret));
		}
		s->has_ring = true;
	}
	atomic_fetch_add(&dev->nstreams, 1);
	*stream = s;
	return EIA_SUCCESS;
}

eiaError_t eiaStreamDestroy(eiaStream_t stream)
{
	static const char fn[] = "eiaStreamDestroy";
	struct eiaEvent *ev;
	eiaError_t err;

	if (!stream)
		return EIA_SUCCESS;
	err = eia_check_entry(fn, stream, "stream");
	if (err)
		return err;
	pthread_mutex_lock(&stream->lock);
	err = eia_stream_flush_locked(stream, fn);
	if (!err)
		err = eia_stream_wait_locked(stream, stream->next_seq - 1, fn);
	if (!err)
		err = eia_stream_take_failure(stream);
	/* A wait that failed leaves buffers in the ring: drain it anyway. */
	while (stream->ninflight && !eia_kernel_ring_reap(stream, stream->ninflight))
		;
	stream_retire(stream);
	for (ev = stream->events; ev; ev = ev->next)
		ev->stream = NULL;
	pthread_mutex_unlock(&stream->lock);
	/*
	 * Buffers still in the ring (only when the ring itself failed) may yet
	 * be written by the kernel: they are leaked rather than freed.
	 */
	while (!stream->ninflight && stream->head) {
		struct eia_cmdbuf *cb = stream->head;

		stream->head = cb->next;
		cmdbuf_free(cb);
	}
	atomic_fetch_sub(&stream->dev->nstreams, 1);
	eia_stream_fini(stream);
	free(stream);
	return err;
}

eiaError_t eiaStreamFlush(eiaStream_t stream)
{
	static const char fn[] = "eiaStreamFlush";
	eiaError_t err = eia_check_entry(fn, stream, "stream");
	int ret;

	if (err)
		return err;
	pthread_mutex_lock(&stream->lock);
	err = eia_stream_flush_locked(stream, fn);
	/* FENCE-only buffers held back go too: nothing stays unsent. */
	ret = err ? 0 : eia_stream_poll_locked(stream);
	if (ret)
		err = eia_fail_errno(fn, ret, "submitting to io_uring: %s", strerror(-ret));
	pthread_mutex_unlock(&stream->lock);
	return err;
}

eiaError_t eiaStreamSynchronize(eiaStream_t stream)
{
	static const char fn[] = "eiaStreamSynchronize";
	eiaError_t err = eia_check_entry(fn, stream, "stream");

	if (err)
		return err;
	pthread_mutex_lock(&stream->lock);
	err = eia_stream_flush_locked(stream, fn);
	if (!err)
		err = eia_stream_wait_locked(stream, stream->next_seq - 1, fn);
	if (!err)
		err = eia_stream_take_failure(stream);
	pthread_mutex_unlock(&stream->lock);
	return err;
}

eiaError_t eiaStreamQuery(eiaStream_t stream)
{
	static const char fn[] = "eiaStreamQuery";
	eiaError_t err = eia_check_entry(fn, stream, "stream");
	int ret;

	if (err)
		return err;
	pthread_mutex_lock(&stream->lock);
	err = eia_stream_flush_locked(stream, fn);
	if (!err) {
		ret = eia_stream_poll_locked(stream);
		if (ret)
			err = eia_fail_errno(fn, ret, "reaping io_uring completions: %s",
					     strerror(-ret));
	}
	if (!err)
		err = eia_stream_take_failure(stream);
	if (!err && stream->done_seq + 1 < stream->next_seq)
		err = EIA_ERROR_NOT_READY;
	pthread_mutex_unlock(&stream->lock);
	return err;
}

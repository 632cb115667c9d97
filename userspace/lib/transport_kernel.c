// SPDX-License-Identifier: MIT
/*
 * Devices of eia.ko: /dev/eiaN, EIA_IOCTL_INFO and EIA_IOCTL_SUBMIT, and the
 * io_uring path: IORING_OP_URING_CMD on a ring with 128-byte SQEs (the
 * struct eia_submit rides in the SQE) and 32-byte CQEs (the first extra
 * word is the index of the failed command).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "eia_ioctl.h"
#include "eia_netlink.h"
#include "libeia.h"

/* io_uring_enter() attempts for one submission (EINTR, EAGAIN, EBUSY). */
#define EIA_SUBMIT_TRIES	1000

int eia_kernel_open(struct eiaDevice *dev, const char *path)
{
	struct eia_dev_info info;
	int err;

	dev->fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0)
		return -errno;
	/* Also proves that @path is an eia device. */
	if (ioctl(dev->fd, EIA_IOCTL_INFO, &info)) {
		err = errno == ENOTTY || errno == EINVAL ? -ENODEV : -errno;
		close(dev->fd);
		dev->fd = -1;
		return err;
	}
	/* What gpud granted; eia.ko checked it against the protocol's bounds. */
	if (!info.max_payload || info.max_payload > EIA_WIRE_MAX_PAYLOAD) {
		close(dev->fd);
		dev->fd = -1;
		return -EPROTO;
	}
	dev->max_payload = info.max_payload;
	return 0;
}

void eia_kernel_close(struct eiaDevice *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
}

eiaError_t eia_kernel_props(struct eiaDevice *dev, eiaDeviceProp *prop)
{
	struct eia_dev_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(dev->fd, EIA_IOCTL_INFO, &info))
		return eia_fail_errno("eiaDeviceGetProperties", errno,
				      "EIA_IOCTL_INFO on %s: %s", dev->name,
				      strerror(errno));
	/* The kernel NUL-terminates both; cut anyway, never trust a length. */
	info.type[sizeof(info.type) - 1] = '\0';
	info.accel_id[sizeof(info.accel_id) - 1] = '\0';
	memcpy(prop->type, info.type, sizeof(prop->type));
	memcpy(prop->accelId, info.accel_id, sizeof(prop->accelId));
	prop->healthy = info.status == EIA_STATUS_HEALTHY;
	prop->memoryTotal = info.memory_total;
	prop->memoryUsed = info.memory_used;
	prop->fp32Tflops = info.fp32_mtflops / 1000.0;
	prop->fp16Tflops = info.fp16_mtflops / 1000.0;
	return EIA_SUCCESS;
}

static void submit_args(struct eia_submit *sub, const struct eia_cmdbuf *cb)
{
	memset(sub, 0, sizeof(*sub));
	sub->cmds = (uintptr_t)cb->cmds;
	sub->cmds_bytes = (uint32_t)cb->bytes;
	sub->ncmds = cb->ncmds;
	sub->failed = EIA_SUBMIT_NONE_FAILED;
	sub->results = (uintptr_t)cb->results;
	sub->queue = cb->queue;
}

void eia_kernel_submit_sync(struct eiaDevice *dev, struct eia_cmdbuf *cb)
{
	struct eia_submit sub;

	submit_args(&sub, cb);
	/*
	 * Never retried on EINTR: the buffer may have run, and running it
	 * twice is worse than reporting the interruption.
	 */
	if (ioctl(dev->fd, EIA_IOCTL_SUBMIT, &sub)) {
		cb->ret = -errno;
		cb->failed = sub.failed < cb->ncmds ? sub.failed : EIA_SUBMIT_NONE_FAILED;
	} else {
		cb->ret = 0;
		cb->failed = EIA_SUBMIT_NONE_FAILED;
	}
}

/*
 * A completion is task work in the submitting thread (eia.ko copies the
 * results to its memory there), and any thread may wait on a stream. Hence
 * neither DEFER_TASKRUN, whose ring only its one submitter may reap, nor
 * COOP_TASKRUN: a waiter would wait, while the submitter computed in user
 * space, for its next system call or timer tick, up to 4 ms. Both cut a
 * round trip on the test VM by about 0.04x of the ping-pong.
 */
int eia_kernel_ring_init(struct eiaStream *s)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32;
	/* CQ twice the SQ (the default): never overflows with SQ-many in flight. */
	return io_uring_queue_init_params(EIA_STREAM_MAX_INFLIGHT, &s->ring, &p);
}

void eia_kernel_ring_fini(struct eiaStream *s)
{
	io_uring_queue_exit(&s->ring);
	s->has_ring = false;
}

static int reap(struct eiaStream *s, unsigned int want)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	int ret;

	if (want) {
		do
			ret = io_uring_wait_cqe_nr(&s->ring, &cqe, want);
		while (ret == -EINTR);
		if (ret)
			return ret;
	}
	io_uring_for_each_cqe(&s->ring, head, cqe) {
		struct eia_cmdbuf *cb = io_uring_cqe_get_data(cqe);

		n++;
		if (!cb)
			continue;
		cb->ret = cqe->res;
		cb->failed = EIA_SUBMIT_NONE_FAILED;
		if (cqe->res < 0 && cqe->big_cqe[0] < cb->ncmds)
			cb->failed = (uint32_t)cqe->big_cqe[0];
		cb->done = true;
		s->ninflight--;
	}
	io_uring_cq_advance(&s->ring, n);
	return 0;
}

/* io_uring_enter() took @n of the SQEs queued. */
static void submitted(struct eiaStream *s, int n)
{
	s->unsubmitted -= (unsigned int)n < s->unsubmitted ? (unsigned int)n : s->unsubmitted;
}

/* Submit every SQE queued so far; 0 or a negative errno. */
static int ring_flush(struct eiaStream *s)
{
	int ret = 0, tries;

	if (s->ring_err)
		return s->ring_err;
	if (!s->unsubmitted)
		return 0;
	for (tries = 0; tries < EIA_SUBMIT_TRIES; tries++) {
		ret = io_uring_submit(&s->ring);
		if (ret > 0) {
			submitted(s, ret);
			if (!s->unsubmitted)
				return 0;
			continue;
		}
		if (ret == -EINTR || ret == -EAGAIN)
			continue;
		/* EBUSY: completions must be reaped first. */
		if (ret != -EBUSY || s->ninflight <= s->unsubmitted)
			break;
		ret = reap(s, 1);
		if (ret)
			break;
	}
	/* The SQEs may still be queued: nothing may use this ring again. */
	s->ring_err = ret < 0 ? ret : -EIO;
	return s->ring_err;
}

int eia_kernel_ring_submit(struct eiaStream *s, struct eia_cmdbuf *cb, bool defer)
{
	struct io_uring_sqe *sqe;
	struct eia_submit sub;

	if (s->ring_err)
		return s->ring_err;
	sqe = io_uring_get_sqe(&s->ring);
	if (!sqe)
		return -EBUSY;
	/* An SQE128 slot: the command area is 80 bytes, all of it zeroed. */
	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = s->dev->fd;
	sqe->cmd_op = EIA_URING_CMD_SUBMIT;
	submit_args(&sub, cb);
	memcpy(sqe->cmd, &sub, sizeof(sub));
	io_uring_sqe_set_data(sqe, cb);
	s->unsubmitted++;
	if (defer && s->unsubmitted < EIA_STREAM_DEFER)
		return 0;
	return ring_flush(s);
}

int eia_kernel_ring_reap(struct eiaStream *s, unsigned int want)
{
	int ret;

	/*
	 * One io_uring_enter() both submits and waits: a round trip of one
	 * buffer costs one system call, not two. The kernel waits only when
	 * it took every SQE; a failure is left to ring_flush(), which retries
	 * what may be retried.
	 */
	if (want && s->unsubmitted && !s->ring_err) {
		ret = io_uring_submit_and_wait(&s->ring, want);
		if (ret > 0)
			submitted(s, ret);
	}
	ret = ring_flush(s);

	return ret ? ret : reap(s, want);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Contexts and the submit core: one path for EIA_IOCTL_SUBMIT and for the
 * io_uring command EIA_URING_CMD_SUBMIT (uapi/eia_ioctl.h).
 *
 * A submit copies the command buffer in, checks every command against
 * uapi/eia_cmdbuf.h, pins the user pages of its copies (COPY_H2D sources
 * for reading, COPY_D2H destinations for writing) and sends one
 * EIA_MSG_SUBMIT: the buffer with its user addresses zeroed, each COPY_H2D
 * followed by its data. The message is one iterator over kernel addresses
 * in which the H2D data are the pinned user pages themselves, so the only
 * copy of H2D data is the socket's own, in the submitting task. Pinning
 * rather than sending from user addresses keeps the stream whole: a
 * concurrent munmap() cannot fault the send halfway, and when a signal
 * interrupts the sender a worker, which has no access to the submitter's
 * memory, finishes the message from the pages. They are unpinned as soon
 * as the message is on the socket (TCP and kTLS copy what they are given).
 *
 * The receive worker checks the response against what was sent and lands
 * D2H data directly in the pinned destination pages; the results are
 * copied out in the submitter's task: by the ioctl, or by io_uring task
 * work for a uring_cmd.
 */

#include <linux/bvec.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "eia_cmdbuf.h"
#include "eia_compat.h"
#include "eia_ioctl.h"
#include "eia_priv.h"

/* Commands and results travel as the host lays them out. */
#ifdef __BIG_ENDIAN
#error "eia supports little-endian hosts only (uapi/eia_cmdbuf.h)"
#endif
/* H2D data is sent from page_address() of the pinned pages. */
#ifdef CONFIG_HIGHMEM
#error "eia needs every page in the kernel's direct map"
#endif

/* Messages up to this size are built on the submitter's stack. */
#define EIA_MSG_SMALL_BUF	256
#define EIA_MSG_SMALL_VEC	8

/* The command area of an SQE on an IORING_SETUP_SQE128 ring. */
#define EIA_SQE128_CMD_BYTES	(2 * sizeof(struct io_uring_sqe) - \
				 offsetof(struct io_uring_sqe, cmd))

/**
 * struct eia_sub_cmd - what one command's result must look like
 * @value: FENCE: its value, which the result echoes
 * @d2h_end: bytes of D2H data of this command and of all before it
 * @op: enum eia_cb_op
 */
struct eia_sub_cmd {
	u64 value;
	u64 d2h_end;
	u16 op;
};

/**
 * struct eia_sub - one command buffer in flight
 * @req: the request. Its reference count governs the whole struct: the
 *	submitter holds one until it has the results (or is killed), the
 *	request table one while the buffer is in flight, the receive worker
 *	one while it reads the response, io_uring task work one while queued.
 * @edev: the device; valid while the buffer is in flight, as the
 *	connection it was sent on holds a device reference
 * @ncmds: commands in the buffer
 * @failed: the response's failed index, or EIA_WIRE_NONE_FAILED
 * @cmds: @ncmds entries, filled in at submit (allocated with the struct)
 * @results: @ncmds results, filled in by the receive worker (allocated
 *	with the struct; 8-byte aligned after it)
 * @results_uptr: where the submitter wants the results, or 0
 * @d2h_pages: the pinned destination pages of every COPY_D2H, in command
 *	order; unpinned (and dirtied) when the last reference goes
 * @d2h_bvec: the same pages with the byte range of each
 * @nr_d2h_pages: entries in @d2h_pages and @d2h_bvec
 * @ioucmd: the io_uring command of an asynchronous submit, else NULL
 * @tw: EIA_TW_* of an asynchronous submit: which task work its io_uring
 *	command carries, one at a time (see eia_uring_read_in_task())
 * @rx_conn: the connection a queued read in task reads, which the read
 *	holds a reference to
 * @task: the submitter's task, with a reference, for an asynchronous
 *	submit
 */
struct eia_sub {
	struct eia_req req;
	struct eia_device *edev;
	u32 ncmds;
	u32 failed;
	struct eia_sub_cmd *cmds;
	struct eia_cb_result *results;
	u64 results_uptr;
	struct page **d2h_pages;
	struct bio_vec *d2h_bvec;
	unsigned int nr_d2h_pages;
	struct io_uring_cmd *ioucmd;
	atomic_t tw;
	struct eia_conn *rx_conn;
	struct task_struct *task;
};

/* A read of the socket is queued as the command's task work. */
#define EIA_TW_READ	BIT(0)
/* The buffer has its result: the command is finished by task work. */
#define EIA_TW_DONE	BIT(1)

/**
 * struct eia_msg - the EIA_MSG_SUBMIT message being built, in the submitter
 * @edev: the device
 * @max_payload: largest payload gpud accepts
 * @queue: the context's queue that runs the buffer
 * @buf: struct eia_wire_submit followed by the copy of the command buffer
 * @len: bytes in @buf
 * @nh2d: commands carrying host data (COPY_H2D, MODULE_LOAD)
 * @nr_h2d_pages: pages their sources span
 * @nr_d2h_pages: pages the COPY_D2H destinations span
 * @h2d_bytes: H2D data as sent, each padded to EIA_CB_ALIGN
 * @d2h_bytes: D2H data
 * @data_bytes: H2D and D2H data together, unpadded
 * @h2d_pages: the pinned source pages, in command order
 * @nr_h2d_pinned: entries of @h2d_pages pinned so far
 * @vec: the message: the wire header, then pieces of @buf, H2D data
 *	(kernel addresses of the pinned pages) and zero padding
 * @nvec: entries of @vec in use
 * @small_buf: @buf when it is this small (most buffers are a few commands)
 * @small_vec: @vec when it is this small
 */
struct eia_msg {
	struct eia_device *edev;
	u32 max_payload;
	u16 queue;
	void *buf;
	u32 len;
	u32 nh2d;
	u32 nr_h2d_pages;
	u32 nr_d2h_pages;
	u64 h2d_bytes;
	u64 d2h_bytes;
	u64 data_bytes;
	struct page **h2d_pages;
	unsigned int nr_h2d_pinned;
	struct kvec *vec;
	unsigned int nvec;
	u64 small_buf[EIA_MSG_SMALL_BUF / sizeof(u64)];
	struct kvec small_vec[EIA_MSG_SMALL_VEC];
};

/**
 * struct eia_uring_pdu - what a uring_cmd keeps in its pdu
 * @sub: the buffer in flight
 */
struct eia_uring_pdu {
	struct eia_sub *sub;
};

/**
 * struct eia_ctx_destroy - the CTX_DESTROY of a released file
 * @work: runs eia_ctx_destroy_work() on eia_wq
 * @conn: the connection the context lives on
 * @ctx: the context
 * @timeout_ms: request timeout
 * @done: completed when the request is over
 */
struct eia_ctx_destroy {
	struct work_struct work;
	struct eia_conn *conn;
	u64 ctx;
	u32 timeout_ms;
	struct completion done;
};

static const u8 eia_zero_pad[EIA_CB_ALIGN];

static struct eia_uring_pdu *eia_uring_pdu(struct io_uring_cmd *ioucmd)
{
	return (struct eia_uring_pdu *)&ioucmd->pdu;
}

static int eia_submit_inval(struct eia_device *edev, const char *why)
{
	dev_dbg_ratelimited(&edev->dev, "submit refused: %s\n", why);
	return -EINVAL;
}

static int eia_cmd_inval(struct eia_msg *m, u32 index, const char *why)
{
	dev_dbg_ratelimited(&m->edev->dev, "submit refused: command %u: %s\n",
			    index, why);
	return -EINVAL;
}

static int eia_cmd_too_big(struct eia_msg *m, u32 index)
{
	dev_dbg_ratelimited(&m->edev->dev, "submit refused: command %u: more data than gpud's max_payload %u\n",
			    index, m->max_payload);
	return -EMSGSIZE;
}

/* Pages spanned by @bytes of user memory at @uaddr. */
static unsigned int eia_npages(u64 uaddr, u64 bytes)
{
	return bytes ? DIV_ROUND_UP(offset_in_page(uaddr) + bytes, PAGE_SIZE) : 0;
}

/* A device range that does not wrap; whether it fits is gpud's to say. */
static bool eia_range_ok(u64 offset, u64 bytes)
{
	u64 end;

	return !check_add_overflow(offset, bytes, &end);
}

/*
 * Copies carry at most max_payload (16 MiB) each, so sums over 4096
 * commands stay far from overflowing 64 bits.
 */
static int eia_check_copy(struct eia_msg *m, u32 i, const struct eia_cb_copy *c)
{
	switch (c->hdr.op) {
	case EIA_CB_COPY_H2D:
		if (c->src_offset)
			return eia_cmd_inval(m, i, "COPY_H2D src_offset is not 0");
		if (!eia_range_ok(c->dst_offset, c->bytes))
			return eia_cmd_inval(m, i, "dst_offset + bytes overflows");
		if (c->bytes > m->max_payload)
			return eia_cmd_too_big(m, i);
		m->nh2d++;
		m->nr_h2d_pages += eia_npages(c->src, c->bytes);
		m->h2d_bytes += round_up(c->bytes, EIA_CB_ALIGN);
		m->data_bytes += c->bytes;
		return 0;
	case EIA_CB_COPY_D2H:
		if (c->dst_offset)
			return eia_cmd_inval(m, i, "COPY_D2H dst_offset is not 0");
		if (!eia_range_ok(c->src_offset, c->bytes))
			return eia_cmd_inval(m, i, "src_offset + bytes overflows");
		if (c->bytes > m->max_payload)
			return eia_cmd_too_big(m, i);
		m->nr_d2h_pages += eia_npages(c->dst, c->bytes);
		m->d2h_bytes += c->bytes;
		m->data_bytes += c->bytes;
		return 0;
	default:
		if (!eia_range_ok(c->dst_offset, c->bytes) ||
		    !eia_range_ok(c->src_offset, c->bytes))
			return eia_cmd_inval(m, i, "offset + bytes overflows");
		return 0;
	}
}

static int eia_check_memset(struct eia_msg *m, u32 i,
			    const struct eia_cb_memset *ms)
{
	if (ms->value > 255)
		return eia_cmd_inval(m, i, "MEMSET value is not a byte");
	if (ms->pad)
		return eia_cmd_inval(m, i, "MEMSET pad is not 0");
	if (!eia_range_ok(ms->dst_offset, ms->bytes))
		return eia_cmd_inval(m, i, "dst_offset + bytes overflows");
	return 0;
}

/*
 * The size must be exactly what the counts give. At most 131070 tensors
 * and a u32 of attributes: the sum cannot overflow 64 bits. Tensors are
 * read only once the size matched, so they lie inside the buffer.
 */
static int eia_check_launch(struct eia_msg *m, u32 i,
			    const struct eia_cb_launch_op *l)
{
	const struct eia_cb_tensor *t = (const void *)(l + 1);
	u32 ntensors = l->ninputs + l->noutputs;
	const u8 *attr;
	u32 j, d;
	u64 size;

	if (l->pad)
		return eia_cmd_inval(m, i, "LAUNCH_OP pad is not 0");
	size = sizeof(*l) + (u64)ntensors * sizeof(*t) +
	       round_up((u64)l->attr_size, EIA_CB_ALIGN);
	if (size != l->hdr.size)
		return eia_cmd_inval(m, i, "LAUNCH_OP size differs from what its counts give");
	for (j = 0; j < ntensors; j++, t++) {
		if (t->ndim > EIA_CB_MAX_DIMS)
			return eia_cmd_inval(m, i, "tensor with more than EIA_CB_MAX_DIMS dimensions");
		for (d = t->ndim; d < EIA_CB_MAX_DIMS; d++) {
			if (t->dims[d])
				return eia_cmd_inval(m, i, "tensor dimension past ndim is not 0");
		}
	}
	attr = (const u8 *)t;
	for (j = l->attr_size; j < round_up(l->attr_size, EIA_CB_ALIGN); j++) {
		if (attr[j])
			return eia_cmd_inval(m, i, "attribute padding is not 0");
	}
	return 0;
}

static int eia_check_module_load(struct eia_msg *m, u32 i,
				 const struct eia_cb_module_load *ml)
{
	if (!ml->bytes)
		return eia_cmd_inval(m, i, "MODULE_LOAD of 0 bytes");
	if (ml->bytes > m->max_payload)
		return eia_cmd_too_big(m, i);
	m->nh2d++;
	m->nr_h2d_pages += eia_npages(ml->image, ml->bytes);
	m->h2d_bytes += round_up(ml->bytes, EIA_CB_ALIGN);
	m->data_bytes += ml->bytes;
	return 0;
}

static bool eia_all_zero(const u8 *p, u32 n)
{
	return !n || (!p[0] && !memcmp(p, p + 1, n - 1));
}

/* The name must be what name_len says, NUL-free, zero-padded. */
static int eia_check_get_function(struct eia_msg *m, u32 i,
				  const struct eia_cb_module_get_function *g)
{
	const char *name = (const char *)(g + 1);

	if (g->pad)
		return eia_cmd_inval(m, i, "MODULE_GET_FUNCTION pad is not 0");
	if (!g->name_len || g->name_len > EIA_CB_KERNEL_NAME_MAX)
		return eia_cmd_inval(m, i, "kernel name length out of range");
	if (sizeof(*g) + round_up(g->name_len, EIA_CB_ALIGN) != g->hdr.size)
		return eia_cmd_inval(m, i, "MODULE_GET_FUNCTION size differs from its name_len");
	if (memchr(name, 0, g->name_len))
		return eia_cmd_inval(m, i, "kernel name holds a NUL");
	if (!eia_all_zero(name + g->name_len,
			  round_up(g->name_len, EIA_CB_ALIGN) - g->name_len))
		return eia_cmd_inval(m, i, "kernel name padding is not 0");
	return 0;
}

/* Sizes are bounded before they are summed: no overflow. */
static int eia_check_launch_kernel(struct eia_msg *m, u32 i,
				   const struct eia_cb_launch_kernel *k)
{
	const struct eia_cb_kernel_ptr *p = (const void *)(k + 1);
	u32 j;

	if (k->pad)
		return eia_cmd_inval(m, i, "LAUNCH_KERNEL pad is not 0");
	for (j = 0; j < 3; j++) {
		if (!k->grid[j] || !k->block[j])
			return eia_cmd_inval(m, i, "LAUNCH_KERNEL grid or block dimension of 0");
	}
	if (k->params_size > EIA_CB_KERNEL_PARAMS_MAX ||
	    k->nptrs > EIA_CB_KERNEL_PTRS_MAX)
		return eia_cmd_inval(m, i, "LAUNCH_KERNEL parameters over the limits");
	if (sizeof(*k) + k->nptrs * sizeof(*p) +
	    round_up(k->params_size, EIA_CB_ALIGN) != k->hdr.size)
		return eia_cmd_inval(m, i, "LAUNCH_KERNEL size differs from what its counts give");
	for (j = 0; j < k->nptrs; j++, p++) {
		if (p->pad || !IS_ALIGNED(p->param_offset, 8) ||
		    p->param_offset > k->params_size ||
		    k->params_size - p->param_offset < sizeof(u64))
			return eia_cmd_inval(m, i, "LAUNCH_KERNEL pointer outside its parameters");
	}
	if (!eia_all_zero((const u8 *)p + k->params_size,
			  round_up(k->params_size, EIA_CB_ALIGN) - k->params_size))
		return eia_cmd_inval(m, i, "LAUNCH_KERNEL parameter padding is not 0");
	return 0;
}

/* One command at most @left bytes long; fills in its @cmd. */
static int eia_check_cmd(struct eia_msg *m, u32 i, const struct eia_cb_hdr *hdr,
			 u32 left, struct eia_sub_cmd *cmd)
{
	u16 op = hdr->op;
	u32 size = eia_cb_size(op);

	if (!size)
		return eia_cmd_inval(m, i, "unknown op");
	if (hdr->flags)
		return eia_cmd_inval(m, i, "flags are not 0");
	if (hdr->size > left)
		return eia_cmd_inval(m, i, "runs past the end of the buffer");
	if (eia_cb_variable(op) ? hdr->size < size : hdr->size != size)
		return eia_cmd_inval(m, i, "wrong size for its op");
	cmd->op = op;

	switch (op) {
	case EIA_CB_MEM_ALLOC:
		if (!((const struct eia_cb_mem_alloc *)hdr)->bytes)
			return eia_cmd_inval(m, i, "MEM_ALLOC of 0 bytes");
		return 0;
	case EIA_CB_COPY_H2D:
	case EIA_CB_COPY_D2H:
	case EIA_CB_COPY_D2D:
		return eia_check_copy(m, i, (const void *)hdr);
	case EIA_CB_MEMSET:
		return eia_check_memset(m, i, (const void *)hdr);
	case EIA_CB_LAUNCH_OP:
		return eia_check_launch(m, i, (const void *)hdr);
	case EIA_CB_FENCE:
		cmd->value = ((const struct eia_cb_fence *)hdr)->value;
		return 0;
	case EIA_CB_MODULE_LOAD:
		return eia_check_module_load(m, i, (const void *)hdr);
	case EIA_CB_MODULE_GET_FUNCTION:
		return eia_check_get_function(m, i, (const void *)hdr);
	case EIA_CB_LAUNCH_KERNEL:
		return eia_check_launch_kernel(m, i, (const void *)hdr);
	default:
		return 0;
	}
}

/*
 * The request (buffer and padded H2D data), the response (results and D2H
 * data) and the data of both together must each fit in max_payload.
 */
static int eia_check_sizes(struct eia_msg *m, u32 ncmds)
{
	u64 req = m->len + m->h2d_bytes;
	u64 resp = sizeof(struct eia_wire_submit_resp) +
		   (u64)ncmds * sizeof(struct eia_cb_result) + m->d2h_bytes;

	if (req <= m->max_payload && resp <= m->max_payload &&
	    m->data_bytes <= m->max_payload)
		return 0;
	dev_dbg_ratelimited(&m->edev->dev, "submit refused: %llu bytes out, %llu back, %llu of data: over max_payload %u\n",
			    req, resp, m->data_bytes, m->max_payload);
	return -EMSGSIZE;
}

/* Every command of the buffer, exactly as uapi/eia_cmdbuf.h says. */
static int eia_check_buf(struct eia_msg *m, struct eia_sub *sub)
{
	const u8 *cmds = m->buf + sizeof(struct eia_wire_submit);
	u32 bytes = m->len - sizeof(struct eia_wire_submit);
	const struct eia_cb_hdr *hdr;
	u32 off, i = 0;
	int err;

	/* bytes and every size are multiples of 8: a header always fits. */
	for (off = 0; off < bytes; off += hdr->size, i++) {
		hdr = (const void *)(cmds + off);
		if (i == sub->ncmds)
			return eia_submit_inval(m->edev, "more commands than ncmds");
		err = eia_check_cmd(m, i, hdr, bytes - off, &sub->cmds[i]);
		if (err)
			return err;
		sub->cmds[i].d2h_end = m->d2h_bytes;
	}
	if (i != sub->ncmds)
		return eia_submit_inval(m->edev, "fewer commands than ncmds");
	return eia_check_sizes(m, sub->ncmds);
}

/* Pin the pages of @bytes at @uaddr; -EFAULT unless all of them are there. */
static int eia_pin(u64 uaddr, u64 bytes, unsigned int gup_flags,
		   struct page **pages)
{
	int n = eia_npages(uaddr, bytes);
	int ret;

	if (!n)
		return 0;
	if (!uaddr || !access_ok(u64_to_user_ptr(uaddr), bytes))
		return -EFAULT;
	ret = pin_user_pages_fast(uaddr & PAGE_MASK, n, gup_flags, pages);
	if (ret == n)
		return 0;
	if (ret > 0)
		unpin_user_pages(pages, ret);
	return ret == -ENOMEM ? -ENOMEM : -EFAULT;
}

static void eia_msg_add(struct eia_msg *m, const void *base, size_t len)
{
	if (!len)
		return;
	m->vec[m->nvec].iov_base = (void *)base;
	m->vec[m->nvec].iov_len = len;
	m->nvec++;
}

/* H2D data: the kernel address of each pinned page's part. */
static void eia_msg_add_pages(struct eia_msg *m, struct page **pages,
			      u64 uaddr, u64 bytes)
{
	size_t off = offset_in_page(uaddr);
	size_t len;

	for (; bytes; bytes -= len, off = 0) {
		len = min_t(u64, bytes, PAGE_SIZE - off);
		eia_msg_add(m, page_address(*pages++) + off, len);
	}
}

static void eia_bvec_fill(struct bio_vec *bv, struct page **pages, u64 uaddr,
			  u64 bytes)
{
	size_t off = offset_in_page(uaddr);
	size_t len;

	for (; bytes; bytes -= len, off = 0, bv++) {
		len = min_t(u64, bytes, PAGE_SIZE - off);
		bv->bv_page = *pages++;
		bv->bv_offset = off;
		bv->bv_len = len;
	}
}

/*
 * The host data a command carries, which follows it on the wire: the
 * source of a COPY_H2D, the image of a MODULE_LOAD. Returns the field
 * holding its user address (zeroed once the data is attached), or NULL.
 */
static u64 *eia_cmd_host_data(struct eia_cb_hdr *hdr, u64 *bytes)
{
	struct eia_cb_module_load *ml;
	struct eia_cb_copy *c;

	switch (hdr->op) {
	case EIA_CB_COPY_H2D:
		c = (void *)hdr;
		*bytes = c->bytes;
		return &c->src;
	case EIA_CB_MODULE_LOAD:
		ml = (void *)hdr;
		*bytes = ml->bytes;
		return &ml->image;
	default:
		return NULL;
	}
}

static int eia_msg_h2d(struct eia_msg *m, struct eia_cb_hdr *hdr, u64 *uaddr,
		       u64 bytes, u32 *from)
{
	struct page **pages = m->h2d_pages + m->nr_h2d_pinned;
	u32 end = (u8 *)hdr + hdr->size - (u8 *)m->buf;
	int err;

	err = eia_pin(*uaddr, bytes, 0, pages);
	if (err)
		return err;
	m->nr_h2d_pinned += eia_npages(*uaddr, bytes);
	eia_msg_add(m, m->buf + *from, end - *from);
	eia_msg_add_pages(m, pages, *uaddr, bytes);
	eia_msg_add(m, eia_zero_pad, round_up(bytes, EIA_CB_ALIGN) - bytes);
	*from = end;
	*uaddr = 0;
	return 0;
}

static int eia_msg_d2h(struct eia_sub *sub, struct eia_cb_copy *c)
{
	struct page **pages = sub->d2h_pages + sub->nr_d2h_pages;
	int err;

	err = eia_pin(c->dst, c->bytes, FOLL_WRITE, pages);
	if (err)
		return err;
	eia_bvec_fill(sub->d2h_bvec + sub->nr_d2h_pages, pages, c->dst,
		      c->bytes);
	sub->nr_d2h_pages += eia_npages(c->dst, c->bytes);
	c->dst = 0;
	return 0;
}

/*
 * Pin the pages of every copy, zero the user addresses and lay out the
 * message. On failure the caller's cleanup unpins what was pinned.
 */
static int eia_msg_build(struct eia_msg *m, struct eia_sub *sub)
{
	u8 *cmds = m->buf + sizeof(struct eia_wire_submit);
	u32 bytes = m->len - sizeof(struct eia_wire_submit);
	struct eia_cb_hdr *hdr;
	u32 off, from = 0;
	u64 *uaddr, data;
	int err;

	m->nvec = 1;	/* the wire header, filled in by eia_conn_send() */
	for (off = 0; off < bytes; off += hdr->size) {
		hdr = (void *)(cmds + off);
		uaddr = eia_cmd_host_data(hdr, &data);
		if (uaddr)
			err = eia_msg_h2d(m, hdr, uaddr, data, &from);
		else if (hdr->op == EIA_CB_COPY_D2H)
			err = eia_msg_d2h(sub, (void *)hdr);
		else
			continue;
		if (err)
			return err;
	}
	eia_msg_add(m, m->buf + from, m->len - from);
	return 0;
}

static int eia_msg_alloc(struct eia_msg *m, struct eia_sub *sub)
{
	/* Header, buffer pieces around each H2D, its pages and padding. */
	size_t nvec = 2 + 2 * m->nh2d + m->nr_h2d_pages;

	if (nvec <= ARRAY_SIZE(m->small_vec))
		m->vec = m->small_vec;
	else
		m->vec = kvmalloc_array(nvec, sizeof(*m->vec), GFP_KERNEL);
	if (!m->vec)
		return -ENOMEM;
	if (m->nr_h2d_pages) {
		m->h2d_pages = kvmalloc_array(m->nr_h2d_pages,
					      sizeof(*m->h2d_pages), GFP_KERNEL);
		if (!m->h2d_pages)
			return -ENOMEM;
	}
	if (m->nr_d2h_pages) {
		sub->d2h_pages = kvmalloc_array(m->nr_d2h_pages,
						sizeof(*sub->d2h_pages),
						GFP_KERNEL);
		sub->d2h_bvec = kvmalloc_array(m->nr_d2h_pages,
					       sizeof(*sub->d2h_bvec),
					       GFP_KERNEL);
		if (!sub->d2h_pages || !sub->d2h_bvec)
			return -ENOMEM;
	}
	return 0;
}

static void eia_msg_free(struct eia_msg *m)
{
	if (m->nr_h2d_pinned)
		unpin_user_pages(m->h2d_pages, m->nr_h2d_pinned);
	kvfree(m->h2d_pages);
	if (m->vec != m->small_vec)
		kvfree(m->vec);
	if (m->buf != m->small_buf)
		kvfree(m->buf);
}

static u32 eia_dev_max_payload(struct eia_device *edev)
{
	u32 max_payload;

	spin_lock(&edev->lock);
	max_payload = edev->max_payload;
	spin_unlock(&edev->lock);
	return max_payload;
}

/* The command buffer, after room for the struct eia_wire_submit. */
static int eia_msg_copy_in(struct eia_msg *m, const struct eia_submit *args)
{
	m->len = sizeof(struct eia_wire_submit) + args->cmds_bytes;
	if (m->len <= sizeof(m->small_buf))
		m->buf = m->small_buf;
	else
		m->buf = kvmalloc(m->len, GFP_KERNEL);
	if (!m->buf)
		return -ENOMEM;
	if (copy_from_user(m->buf + sizeof(struct eia_wire_submit),
			   u64_to_user_ptr(args->cmds), args->cmds_bytes))
		return -EFAULT;
	m->max_payload = eia_dev_max_payload(m->edev);
	return 0;
}

static int eia_check_args(struct eia_device *edev,
			  const struct eia_submit *args)
{
	size_t results_len;

	if (args->flags || args->reserved)
		return eia_submit_inval(edev, "flags or reserved is not 0");
	if (args->queue >= EIA_CB_QUEUES)
		return eia_submit_inval(edev, "queue out of range");
	if (!args->ncmds || args->ncmds > EIA_CB_MAX_CMDS)
		return eia_submit_inval(edev, "ncmds out of range");
	if (args->cmds_bytes < sizeof(struct eia_cb_hdr) ||
	    args->cmds_bytes > EIA_CB_MAX_BYTES ||
	    !IS_ALIGNED(args->cmds_bytes, EIA_CB_ALIGN))
		return eia_submit_inval(edev, "cmds_bytes out of range or unaligned");
	if (!IS_ALIGNED(args->cmds, EIA_CB_ALIGN))
		return eia_submit_inval(edev, "cmds is not EIA_CB_ALIGN-aligned");
	results_len = (size_t)args->ncmds * sizeof(struct eia_cb_result);
	if (args->results &&
	    !access_ok(u64_to_user_ptr(args->results), results_len))
		return -EFAULT;
	return 0;
}

/* Results as gpud must give them: see struct eia_cb_result. */
static bool eia_cb_makes_handle(u16 op)
{
	return op == EIA_CB_MEM_ALLOC || op == EIA_CB_MODULE_LOAD ||
	       op == EIA_CB_MODULE_GET_FUNCTION;
}

static const char *eia_sub_check_results(const struct eia_sub *sub,
					 u32 failed)
{
	const struct eia_cb_result *r;
	const struct eia_sub_cmd *cmd;
	u32 i;

	if (failed != EIA_WIRE_NONE_FAILED && failed >= sub->ncmds)
		return "SUBMIT failed index out of range";
	for (i = 0; i < sub->ncmds; i++) {
		r = &sub->results[i];
		cmd = &sub->cmds[i];
		if (r->pad)
			return "result pad is not 0";
		if (i < failed) {
			if (r->status)
				return "a command before the failed one did not succeed";
			if (cmd->op == EIA_CB_FENCE ? r->value != cmd->value :
			    !eia_cb_makes_handle(cmd->op) && r->value)
				return "result value is not what the command gives";
			continue;
		}
		if (i == failed && (r->status >= 0 || r->status < -MAX_ERRNO))
			return "the failed command's status is not a negative errno";
		if (i > failed && r->status != -ECANCELED)
			return "a command after the failed one was not cancelled";
		if (r->value)
			return "a command that did not run has a value";
	}
	return NULL;
}

/* D2H data in the response: that of every command before the failed one. */
static u64 eia_sub_d2h_bytes(const struct eia_sub *sub, u32 failed)
{
	u32 ran = failed == EIA_WIRE_NONE_FAILED ? sub->ncmds : failed;

	return ran ? sub->cmds[ran - 1].d2h_end : 0;
}

/*
 * The receive worker reads a SUBMIT response. Anything that is not exactly
 * the answer to the buffer sent is a protocol error: the link dies.
 */
static int eia_sub_recv(struct eia_conn *conn, struct eia_req *req, u32 len,
			const char **why)
{
	struct eia_sub *sub = container_of(req, struct eia_sub, req);
	size_t results_len = (size_t)sub->ncmds * sizeof(*sub->results);
	struct eia_wire_submit_resp resp;
	struct kvec vec[2] = {
		{ .iov_base = &resp, .iov_len = sizeof(resp) },
		{ .iov_base = sub->results, .iov_len = results_len },
	};
	struct iov_iter iter;
	const char *bad;
	u32 failed;
	u64 d2h;
	int err;

	if (len < sizeof(resp) + results_len)
		return eia_conn_bad_resp(conn, "SUBMIT response shorter than its results",
					 why);
	iov_iter_kvec(&iter, ITER_DEST, vec, ARRAY_SIZE(vec),
		      sizeof(resp) + results_len);
	err = eia_conn_recv(conn, req, &iter, why);
	if (err)
		return err;
	if (le32_to_cpu(resp.ncmds) != sub->ncmds)
		return eia_conn_bad_resp(conn, "SUBMIT response for another number of commands",
					 why);
	failed = le32_to_cpu(resp.failed);
	bad = eia_sub_check_results(sub, failed);
	if (bad)
		return eia_conn_bad_resp(conn, bad, why);
	d2h = eia_sub_d2h_bytes(sub, failed);
	if (len != sizeof(resp) + results_len + d2h)
		return eia_conn_bad_resp(conn, "SUBMIT response length is not that of its D2H data",
					 why);

	iov_iter_bvec(&iter, ITER_DEST, sub->d2h_bvec, sub->nr_d2h_pages, d2h);
	err = eia_conn_recv(conn, req, &iter, why);
	if (err)
		return err;
	sub->failed = failed;
	atomic64_set(&conn->edev->memory_used, le64_to_cpu(resp.memory_used));
	return 0;
}

static void eia_sub_done(struct eia_req *req)
{
	struct eia_sub *sub = container_of(req, struct eia_sub, req);

	if (req->result)
		atomic64_inc(&sub->edev->errors);
}

static void eia_sub_release(struct eia_req *req)
{
	struct eia_sub *sub = container_of(req, struct eia_sub, req);

	if (sub->nr_d2h_pages)
		unpin_user_pages_dirty_lock(sub->d2h_pages, sub->nr_d2h_pages,
					    true);
	kvfree(sub->d2h_pages);
	kvfree(sub->d2h_bvec);
	if (sub->task)
		put_task_struct(sub->task);
	kvfree(sub);
}

static const struct eia_req_ops eia_sub_ops = {
	.recv = eia_sub_recv,
	.done = eia_sub_done,
	.release = eia_sub_release,
};

static void eia_uring_task_cb(struct io_uring_cmd *ioucmd,
			      unsigned int issue_flags);

/*
 * Completion of a uring_cmd goes through task work: see eia_uring_task_cb().
 * A read queued as the command's task work and not yet begun finishes it
 * instead: the command carries one task work at a time.
 */
static void eia_uring_done(struct eia_req *req)
{
	struct eia_sub *sub = container_of(req, struct eia_sub, req);

	eia_sub_done(req);
	eia_req_get(req);
	if (!(atomic_fetch_or(EIA_TW_DONE, &sub->tw) & EIA_TW_READ))
		io_uring_cmd_complete_in_task(sub->ioucmd, eia_uring_task_cb);
}

/*
 * Task work: the submitter's task reads the socket, and finishes the
 * command if its result came meanwhile (eia_uring_done() left it to this).
 * Data arriving during the read is not lost: the read holds rx_lock, and
 * letting go of it hands what came to the worker.
 */
static void eia_uring_read_cb(struct io_uring_cmd *ioucmd,
			      unsigned int issue_flags)
{
	struct eia_sub *sub = eia_uring_pdu(ioucmd)->sub;
	struct eia_conn *conn = sub->rx_conn;

	eia_conn_read(conn);
	eia_conn_put(conn);
	if (atomic_fetch_andnot(EIA_TW_READ, &sub->tw) & EIA_TW_DONE)
		eia_uring_task_cb(ioucmd, issue_flags);
	eia_req_put(&sub->req);
}

/*
 * The reader's ->read_in_task, under the connection's rx_kick_lock: queue
 * a read as the command's task work. Not while the task runs: it is still
 * submitting, and the worker reads meanwhile on another CPU instead of
 * interrupting it. Not when the buffer has its result, nor when a read
 * queued earlier has not begun: the task may be asleep where task work
 * does not run (a send that waits for gpud to read, while gpud waits for
 * room to write its responses), and more data coming meanwhile goes to the
 * receive worker, which always reads.
 */
static bool eia_uring_read_in_task(struct eia_conn *conn, struct eia_req *req)
{
	struct eia_sub *sub = container_of(req, struct eia_sub, req);

	if (task_is_running(sub->task) ||
	    atomic_cmpxchg(&sub->tw, 0, EIA_TW_READ))
		return false;
	kref_get(&conn->kref);
	sub->rx_conn = conn;
	eia_req_get(req);
	io_uring_cmd_complete_in_task(sub->ioucmd, eia_uring_read_cb);
	return true;
}

static const struct eia_req_ops eia_uring_sub_ops = {
	.recv = eia_sub_recv,
	.read_in_task = eia_uring_read_in_task,
	.done = eia_uring_done,
	.release = eia_sub_release,
};

/* One allocation: the struct, then @ncmds results and @ncmds cmds. */
static struct eia_sub *eia_sub_alloc(struct eia_device *edev, u32 ncmds,
				     const struct eia_req_ops *ops)
{
	size_t per_cmd = sizeof(struct eia_cb_result) + sizeof(struct eia_sub_cmd);
	struct eia_sub *sub;

	/* ncmds <= EIA_CB_MAX_CMDS: at most 160 KiB, no overflow. */
	sub = kvzalloc(sizeof(*sub) + ncmds * per_cmd, GFP_KERNEL);
	if (!sub)
		return NULL;
	eia_req_init(&sub->req, ops, EIA_MSG_SUBMIT);
	sub->edev = edev;
	sub->ncmds = ncmds;
	sub->failed = EIA_WIRE_NONE_FAILED;
	sub->results = (void *)(sub + 1);
	sub->cmds = (void *)(sub->results + ncmds);
	return sub;
}

/*
 * gpud refused the whole buffer (nothing ran): the reasons a caller can act
 * on keep their errno, any other is -EIO.
 */
static int eia_sub_refusal(u32 status)
{
	switch (status) {
	case EINVAL:
	case EOPNOTSUPP:
	case EMSGSIZE:
	case ENOMEM:
		return -status;
	default:
		return -EIO;
	}
}

/*
 * In the submitter's task: hand the results over (unless @to_user is
 * false: nobody is left to read them) and give the submit's return value.
 */
static int eia_sub_finish(struct eia_sub *sub, bool to_user, u32 *failed)
{
	size_t len = (size_t)sub->ncmds * sizeof(*sub->results);

	*failed = EIA_SUBMIT_NONE_FAILED;
	if (sub->req.result == -EIO)
		return eia_sub_refusal(sub->req.status);
	if (sub->req.result)
		return sub->req.result;
	*failed = sub->failed;
	if (to_user && sub->results_uptr &&
	    copy_to_user(u64_to_user_ptr(sub->results_uptr), sub->results, len))
		return -EFAULT;
	if (sub->failed == EIA_WIRE_NONE_FAILED)
		return 0;
	return sub->results[sub->failed].status;
}

static int eia_ctx_create(struct eia_conn *conn, u32 timeout_ms, bool wait,
			  u64 *ctx)
{
	struct eia_wire_ctx resp;
	struct eia_call call = {
		.wait = wait,
		.opcode = EIA_MSG_CTX_CREATE,
		.resp = &resp,
		.resp_cap = sizeof(resp),
		.timeout_ms = timeout_ms,
	};
	int err;

	err = eia_conn_call(conn, &call);
	if (err == -EIO && call.status == EMFILE)
		return -EMFILE;
	if (err)
		return err;
	if (call.resp_len != sizeof(resp) || !resp.ctx) {
		dev_dbg_ratelimited(&conn->edev->dev, "CTX_CREATE answered with a malformed context\n");
		atomic64_inc(&conn->edev->errors);
		return -EPROTO;
	}
	*ctx = le64_to_cpu(resp.ctx);
	return 0;
}

/*
 * The connection the file's context lives on, with a reference; the
 * context is created there at the first submit (@wait: for room in the
 * request table). Called with efile->lock. A context does not survive its
 * connection: once the device has another one, the file's submits fail
 * with -ESTALE for good.
 */
static struct eia_conn *eia_file_conn(struct eia_file *efile, bool wait,
				      u32 *timeout_ms)
{
	struct eia_conn *conn;
	int err;

	conn = eia_dev_conn_get(efile->edev, false, timeout_ms);
	if (!conn)
		return ERR_PTR(-ENODEV);
	if (efile->ctx) {
		if (efile->ctx_gen == conn->gen)
			return conn;
		err = -ESTALE;
	} else {
		err = eia_ctx_create(conn, *timeout_ms, wait, &efile->ctx);
		if (!err) {
			efile->ctx_gen = conn->gen;
			return conn;
		}
	}
	eia_conn_put(conn);
	return ERR_PTR(err);
}

/*
 * Send the message under the file's lock, so that its submits keep order.
 * With @connp (the ioctl) the connection it went on comes back there, with
 * a reference, for the wait.
 */
static int eia_submit_send(struct eia_file *efile, struct eia_msg *m,
			   struct eia_sub *sub, struct io_uring_cmd *ioucmd,
			   struct eia_conn **connp)
{
	struct eia_wire_submit *ws = m->buf;
	struct eia_conn *conn;
	u32 timeout_ms;
	int err;

	if (mutex_lock_killable(&efile->lock))
		return -EINTR;
	conn = eia_file_conn(efile, !ioucmd, &timeout_ms);
	if (IS_ERR(conn)) {
		err = PTR_ERR(conn);
		goto out_unlock;
	}
	ws->ctx = cpu_to_le64(efile->ctx);
	ws->ncmds = cpu_to_le32(sub->ncmds);
	ws->queue = cpu_to_le16(m->queue);
	ws->flags = 0;
	if (ioucmd) {
		sub->ioucmd = ioucmd;
		sub->task = get_task_struct(current);
		eia_uring_pdu(ioucmd)->sub = sub;
		eia_conn_cork_plugged(conn);
	}
	/* A uring_cmd must not wait for room: it would hold the ring's lock. */
	err = eia_conn_send(conn, &sub->req, m->vec, m->nvec,
			    m->len + m->h2d_bytes, timeout_ms, !ioucmd);
	if (!err && ioucmd)
		eia_conn_set_reader(conn, &sub->req);
	if (err && err != -EINTR && err != -EBUSY)
		atomic64_inc(&efile->edev->errors);
	if (!err && connp)
		*connp = conn;
	else
		eia_conn_put(conn);
out_unlock:
	mutex_unlock(&efile->lock);
	return err;
}

/**
 * eia_submit_start() - the submit core: check, pin and send a command buffer
 * @efile: the file, whose context runs the buffer
 * @args: the submit, copied from the caller
 * @ops: eia_sub_ops (ioctl) or eia_uring_sub_ops
 * @ioucmd: the io_uring command, or NULL for the ioctl
 * @subp: Out: the buffer in flight, with the caller's reference
 * @connp: Out, for the ioctl (else NULL): the connection the buffer went
 *	on, with the caller's reference
 *
 * When this returns 0 the buffer is on the wire, its H2D data read and its
 * D2H destinations pinned; its completion comes exactly once.
 *
 * Return: 0; -EINVAL (malformed), -EFAULT (bad address), -EMSGSIZE (too
 * much data), -ENOMEM, -EINTR, -ENODEV, -ENOLINK, -ESTALE, -EMFILE (gpud
 * has too many contexts), -EBUSY (uring: EIA_MAX_INFLIGHT in flight),
 * -ETIMEDOUT, -EIO or -EPROTO (creating the context failed).
 */
static int eia_submit_start(struct eia_file *efile,
			    const struct eia_submit *args,
			    const struct eia_req_ops *ops,
			    struct io_uring_cmd *ioucmd, struct eia_sub **subp,
			    struct eia_conn **connp)
{
	struct eia_device *edev = efile->edev;
	struct eia_msg m;
	struct eia_sub *sub;
	int err;

	err = eia_check_args(edev, args);
	if (err)
		return err;
	/* Not zeroed as a whole: the small buffers are filled before use. */
	memset(&m, 0, offsetof(struct eia_msg, small_buf));
	m.edev = edev;
	m.queue = args->queue;
	sub = eia_sub_alloc(edev, args->ncmds, ops);
	if (!sub)
		return -ENOMEM;
	sub->results_uptr = args->results;

	err = eia_msg_copy_in(&m, args);
	if (!err)
		err = eia_check_buf(&m, sub);
	if (!err)
		err = eia_msg_alloc(&m, sub);
	if (!err)
		err = eia_msg_build(&m, sub);
	if (!err)
		err = eia_submit_send(efile, &m, sub, ioucmd, connp);
	eia_msg_free(&m);
	if (err) {
		eia_req_put(&sub->req);
		return err;
	}
	*subp = sub;
	return 0;
}

/**
 * eia_submit_ioctl() - EIA_IOCTL_SUBMIT: run a command buffer and wait
 * @efile: the file
 * @args: the submit; @args->failed is set whatever the outcome
 *
 * The wait is bounded: a buffer not answered within the request timeout
 * fails (the timeout work of the connection sees to it). A fatal signal
 * ends the wait; the buffer still completes and its pages are released.
 *
 * Return: 0, the first failing command's status, or the submit's error.
 */
int eia_submit_ioctl(struct eia_file *efile, struct eia_submit *args)
{
	struct eia_conn *conn;
	struct eia_sub *sub;
	int err;

	args->failed = EIA_SUBMIT_NONE_FAILED;
	err = eia_submit_start(efile, args, &eia_sub_ops, NULL, &sub, &conn);
	if (err)
		return err;
	if (eia_conn_wait(conn, &sub->req, MAX_SCHEDULE_TIMEOUT) < 0)
		err = -EINTR;
	else
		err = eia_sub_finish(sub, true, &args->failed);
	eia_conn_put(conn);
	eia_req_put(&sub->req);
	return err;
}

/*
 * Task work of a completed uring_cmd, in the submitter's task: results are
 * copied to its memory there. A task on its way out (io_uring's fallback
 * runs task work in a kernel thread) gets no results, only the CQE.
 */
static void eia_uring_task_cb(struct io_uring_cmd *ioucmd,
			      unsigned int issue_flags)
{
	struct eia_sub *sub = eia_uring_pdu(ioucmd)->sub;
	bool to_user = current->mm && !(current->flags & PF_EXITING);
	u32 failed;
	int ret;

	ret = eia_sub_finish(sub, to_user, &failed);
	eia_req_put(&sub->req);
	io_uring_cmd_done(ioucmd, ret, failed, issue_flags);
}

/**
 * __eia_submit_uring() - EIA_URING_CMD_SUBMIT: run a command buffer
 * @efile: the file
 * @ioucmd: the command; struct eia_submit starts its SQE's command area
 * @issue_flags: IO_URING_F_*
 *
 * The buffer is checked, pinned and sent before this returns (the caller
 * may reuse its H2D sources once io_uring_enter() returns); completion
 * comes through eia_uring_task_cb(), bounded by the request timeout: 6.1
 * cannot cancel a uring_cmd, and does not need to. IO_URING_F_NONBLOCK is
 * not honoured: punting to io-wq would read H2D data after the submitter
 * believes it was read.
 *
 * Return: the submit's error: -ENOTTY (unknown cmd_op), -ENODEV, -EINVAL (no
 * SQE128, fixed buffers, non-zero tail), -EBUSY (EIA_MAX_INFLIGHT buffers
 * in flight on the connection), or what eia_submit_start() returns; else 0.
 */
static int __eia_submit_uring(struct eia_file *efile,
			      struct io_uring_cmd *ioucmd,
			      unsigned int issue_flags)
{
	const u64 *area = eia_uring_cmd_area(ioucmd);
	const struct eia_submit *usub = (const void *)area;
	struct eia_submit args;
	struct eia_sub *sub;
	unsigned int i;
	int err;

	BUILD_BUG_ON(sizeof(struct eia_uring_pdu) > sizeof(ioucmd->pdu));
	BUILD_BUG_ON(sizeof(struct eia_submit) > EIA_SQE128_CMD_BYTES ||
		     sizeof(struct eia_submit) % sizeof(u64));

	if (ioucmd->cmd_op != EIA_URING_CMD_SUBMIT)
		return -ENOTTY;
	if (eia_dev_detached(efile->edev))
		return -ENODEV;
	if (!(issue_flags & IO_URING_F_SQE128))
		return eia_submit_inval(efile->edev, "io_uring ring without SQE128");
	if (ioucmd->flags & IORING_URING_CMD_FIXED)
		return eia_submit_inval(efile->edev, "fixed buffers are not supported");

	/* The SQE is shared with userspace: read each field once. */
	args.cmds = READ_ONCE(usub->cmds);
	args.cmds_bytes = READ_ONCE(usub->cmds_bytes);
	args.ncmds = READ_ONCE(usub->ncmds);
	args.flags = READ_ONCE(usub->flags);
	args.failed = EIA_SUBMIT_NONE_FAILED;
	args.results = READ_ONCE(usub->results);
	args.queue = READ_ONCE(usub->queue);
	args.reserved = READ_ONCE(usub->reserved);
	for (i = sizeof(args) / sizeof(u64);
	     i < EIA_SQE128_CMD_BYTES / sizeof(u64); i++) {
		if (READ_ONCE(area[i]))
			return eia_submit_inval(efile->edev, "SQE command area past struct eia_submit is not 0");
	}

	err = eia_submit_start(efile, &args, &eia_uring_sub_ops, ioucmd, &sub,
			       NULL);
	if (err)
		return err;
	eia_req_put(&sub->req);
	return 0;
}

/**
 * eia_submit_uring() - the uring_cmd entry point
 * @efile: the file
 * @ioucmd: the command
 * @issue_flags: IO_URING_F_*
 *
 * A submit that fails at once completes here, as ublk does, so that its CQE
 * too carries EIA_SUBMIT_NONE_FAILED as the failed index.
 *
 * Return: -EIOCBQUEUED.
 */
int eia_submit_uring(struct eia_file *efile, struct io_uring_cmd *ioucmd,
		     unsigned int issue_flags)
{
	int err = __eia_submit_uring(efile, ioucmd, issue_flags);

	if (err)
		io_uring_cmd_done(ioucmd, err, EIA_SUBMIT_NONE_FAILED,
				  issue_flags);
	return -EIOCBQUEUED;
}

static void eia_ctx_destroy_work(struct work_struct *work)
{
	struct eia_ctx_destroy *d = container_of(work, struct eia_ctx_destroy,
						 work);
	struct eia_wire_ctx req = { .ctx = cpu_to_le64(d->ctx) };
	struct eia_wire_mem_status resp;
	struct eia_call call = {
		.wait = true,
		.opcode = EIA_MSG_CTX_DESTROY,
		.payload = &req,
		.payload_len = sizeof(req),
		.resp = &resp,
		.resp_cap = sizeof(resp),
		.timeout_ms = d->timeout_ms,
	};
	struct eia_device *edev = d->conn->edev;

	if (!eia_conn_call(d->conn, &call)) {
		if (call.resp_len == sizeof(resp))
			atomic64_set(&edev->memory_used,
				     le64_to_cpu(resp.memory_used));
		else
			dev_dbg_ratelimited(&edev->dev, "CTX_DESTROY answered with a wrong length\n");
	}
	complete(&d->done);
}

/**
 * eia_file_destroy_ctx() - free on gpud everything a released file owned
 * @efile: the file
 *
 * gpud runs the CTX_DESTROY after every buffer sent before it, including
 * those of a submitter that was killed. The request runs in a worker:
 * release may come from a task being killed, whose pending signal would cut
 * every killable wait short. The wait for it is bounded by the request
 * timeout. Without a context, or when its connection is gone (and with it
 * the context), there is nothing to do.
 */
void eia_file_destroy_ctx(struct eia_file *efile)
{
	struct eia_ctx_destroy d = { .ctx = efile->ctx };

	if (!efile->ctx)
		return;
	d.conn = eia_dev_conn_get(efile->edev, false, &d.timeout_ms);
	if (!d.conn)
		return;
	if (d.conn->gen == efile->ctx_gen) {
		init_completion(&d.done);
		INIT_WORK_ONSTACK(&d.work, eia_ctx_destroy_work);
		queue_work(eia_wq, &d.work);
		wait_for_completion_state(&d.done, TASK_IDLE);
		destroy_work_on_stack(&d.work);
	}
	eia_conn_put(d.conn);
	efile->ctx = 0;
}

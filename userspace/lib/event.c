// SPDX-License-Identifier: MIT
/*
 * Events: a FENCE queued on a stream, which is then flushed. The event is
 * complete once the buffer holding the FENCE retired, i.e. once that buffer
 * and every earlier one of the stream completed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libeia.h"

/* Take @ev off the list of the stream it was recorded on. */
static void event_unlink(struct eiaEvent *ev)
{
	struct eiaStream *s = ev->stream;
	struct eiaEvent **pp;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	for (pp = &s->events; *pp; pp = &(*pp)->next) {
		if (*pp == ev) {
			*pp = ev->next;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	ev->stream = NULL;
	ev->next = NULL;
}

eiaError_t eiaEventCreate(eiaEvent_t *event, unsigned int flags)
{
	static const char fn[] = "eiaEventCreate";
	eiaError_t err = eia_check_entry(fn, event, "event");
	struct eiaEvent *ev;

	if (err)
		return err;
	if (flags)
		return eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL, "unknown flags %#x", flags);
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return eia_fail(fn, EIA_ERROR_OUT_OF_MEMORY, ENOMEM, "no memory for an event");
	*event = ev;
	return EIA_SUCCESS;
}

eiaError_t eiaEventDestroy(eiaEvent_t event)
{
	if (event) {
		event_unlink(event);
		free(event);
	}
	return EIA_SUCCESS;
}

eiaError_t eiaEventRecord(eiaEvent_t event, eiaStream_t stream)
{
	static const char fn[] = "eiaEventRecord";
	struct eia_cb_fence *f;
	eiaError_t err = eia_check_entry(fn, event, "event");

	if (err)
		return err;
	if (event->stream != stream)
		event_unlink(event);
	err = eia_stream_begin(stream, fn);
	if (err)
		return err;
	err = eia_stream_add(stream, fn, EIA_CB_FENCE, sizeof(*f), 0, 0, NULL, (void **)&f);
	if (err)
		return eia_stream_end(stream, err);
	f->value = stream->calls;
	err = eia_stream_flush_locked(stream, fn);
	/* Where the FENCE is: flushed, or still in the buffer being filled. */
	event->seq = stream->cur && stream->cur->ncmds ? stream->next_seq :
		     stream->next_seq - 1;
	if (event->stream != stream) {
		event->stream = stream;
		event->next = stream->events;
		stream->events = event;
	}
	return eia_stream_end(stream, err);
}

eiaError_t eiaEventSynchronize(eiaEvent_t event)
{
	static const char fn[] = "eiaEventSynchronize";
	eiaError_t err = eia_check_entry(fn, event, "event");
	struct eiaStream *s;

	if (err)
		return err;
	s = event->stream;
	if (!s)
		return EIA_SUCCESS;
	pthread_mutex_lock(&s->lock);
	if (s->done_seq < event->seq && s->next_seq <= event->seq)
		err = eia_stream_flush_locked(s, fn);
	if (!err)
		err = eia_stream_wait_locked(s, event->seq, fn);
	if (!err)
		err = eia_stream_take_failure(s);
	pthread_mutex_unlock(&s->lock);
	return err;
}

eiaError_t eiaEventQuery(eiaEvent_t event)
{
	static const char fn[] = "eiaEventQuery";
	eiaError_t err = eia_check_entry(fn, event, "event");
	struct eiaStream *s;
	int ret;

	if (err)
		return err;
	s = event->stream;
	if (!s)
		return EIA_SUCCESS;
	pthread_mutex_lock(&s->lock);
	if (s->next_seq <= event->seq)
		err = eia_stream_flush_locked(s, fn);
	if (!err) {
		ret = eia_stream_poll_locked(s);
		if (ret)
			err = eia_fail_errno(fn, ret, "reaping io_uring completions: %s",
					     strerror(-ret));
	}
	if (!err && s->done_seq >= event->seq)
		err = eia_stream_take_failure(s);
	else if (!err)
		err = EIA_ERROR_NOT_READY;
	pthread_mutex_unlock(&s->lock);
	return err;
}

eiaError_t eiaStreamWaitEvent(eiaStream_t stream, eiaEvent_t event, unsigned int flags)
{
	static const char fn[] = "eiaStreamWaitEvent";
	eiaError_t err = eia_check_entry(fn, event, "event");

	if (!err && flags)
		err = eia_fail(fn, EIA_ERROR_INVALID_VALUE, EINVAL, "unknown flags %#x", flags);
	if (!err)
		err = eiaStreamFlush(stream);
	/* Waiting on the host orders everything queued on @stream after it. */
	if (!err)
		err = eiaEventSynchronize(event);
	return err;
}

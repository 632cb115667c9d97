// SPDX-License-Identifier: MIT
#include "fair.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* "No slot", in the free list. */
#define NONE		UINT32_MAX
/* A 1-TFLOPS (1000 mTFLOPS) device's virtual time advances as real time. */
#define VSCALE		1000u
/* Most charged at once, so that ns * VSCALE plus a remainder fits 64 bits. */
#define CHARGE_MAX_NS	((UINT64_MAX - UINT32_MAX) / VSCALE)

static uint32_t *heap(struct gpud_fair *f)
{
	return (uint32_t *)&f->slots[f->nslots];
}

size_t gpud_fair_size(unsigned int nslots)
{
	return sizeof(struct gpud_fair) +
	       (size_t)nslots * (sizeof(struct gpud_fair_slot) + sizeof(uint32_t));
}

uint64_t gpud_fair_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A slot's @turn: process-shared, timed on CLOCK_MONOTONIC. */
static int init_turn(struct gpud_fair_slot *s)
{
	pthread_condattr_t ca;
	int ret;

	ret = pthread_condattr_init(&ca);
	if (ret)
		return -ret;
	ret = pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	if (!ret)
		ret = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!ret)
		ret = pthread_cond_init(&s->turn, &ca);
	pthread_condattr_destroy(&ca);
	return -ret;
}

int gpud_fair_init(struct gpud_fair *f, unsigned int nslots, unsigned int concurrency,
		   uint64_t hold_ns)
{
	pthread_mutexattr_t ma;
	unsigned int i;
	int ret;

	if (!nslots || nslots >= NONE || !concurrency ||
	    concurrency > GPUD_FAIR_MAX_CONCURRENCY)
		return -EINVAL;
	memset(f, 0, gpud_fair_size(nslots));
	f->nslots = nslots;
	f->concurrency = concurrency;
	f->hold_ns = hold_ns;
	f->free_head = 0;
	ret = pthread_mutexattr_init(&ma);
	if (ret)
		return -ret;
	ret = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	if (!ret)
		ret = pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	if (!ret)
		ret = pthread_mutex_init(&f->lock, &ma);
	for (i = 0; !ret && i < nslots; i++) {
		struct gpud_fair_slot *s = &f->slots[i];

		s->next_free = i + 1 < nslots ? i + 1 : NONE;
		ret = pthread_mutex_init(&s->alive, &ma);
		if (!ret)
			ret = -init_turn(s);
	}
	pthread_mutexattr_destroy(&ma);
	return -ret;
}

void gpud_fair_destroy(struct gpud_fair *f)
{
	unsigned int i;

	for (i = 0; i < f->nslots; i++) {
		pthread_cond_destroy(&f->slots[i].turn);
		pthread_mutex_destroy(&f->slots[i].alive);
	}
	pthread_mutex_destroy(&f->lock);
}

/* Whether @a goes before @b: lower virtual time, then served less recently. */
static bool before(const struct gpud_fair *f, uint32_t a, uint32_t b)
{
	const struct gpud_fair_slot *x = &f->slots[a], *y = &f->slots[b];

	if (x->vtime != y->vtime)
		return x->vtime < y->vtime;
	if (x->served != y->served)
		return x->served < y->served;
	return a < b;
}

static void heap_set(struct gpud_fair *f, uint32_t pos, uint32_t i)
{
	heap(f)[pos] = i;
	f->slots[i].heap_pos = pos;
}

static void sift_up(struct gpud_fair *f, uint32_t pos)
{
	uint32_t *h = heap(f), i = h[pos];

	while (pos) {
		uint32_t parent = (pos - 1) / 2;

		if (!before(f, i, h[parent]))
			break;
		heap_set(f, pos, h[parent]);
		pos = parent;
	}
	heap_set(f, pos, i);
}

static void sift_down(struct gpud_fair *f, uint32_t pos)
{
	uint32_t *h = heap(f), i = h[pos];

	for (;;) {
		uint32_t c = 2 * pos + 1;

		if (c >= f->nwaiting)
			break;
		if (c + 1 < f->nwaiting && before(f, h[c + 1], h[c]))
			c++;
		if (!before(f, h[c], i))
			break;
		heap_set(f, pos, h[c]);
		pos = c;
	}
	heap_set(f, pos, i);
}

static void heap_push(struct gpud_fair *f, uint32_t i)
{
	heap_set(f, f->nwaiting, i);
	sift_up(f, f->nwaiting++);
}

static void heap_remove(struct gpud_fair *f, uint32_t i)
{
	uint32_t pos = f->slots[i].heap_pos, last = heap(f)[--f->nwaiting];

	if (last == i)
		return;
	heap_set(f, pos, last);
	sift_up(f, pos);
	sift_down(f, f->slots[last].heap_pos);
}

static void seat_take(struct gpud_fair *f, uint32_t i)
{
	f->slots[i].seat = f->nseats;
	f->seats[f->nseats++] = i;
}

static void seat_free(struct gpud_fair *f, uint32_t i)
{
	uint32_t pos = f->slots[i].seat, last = f->seats[--f->nseats];

	f->seats[pos] = last;
	f->slots[last].seat = pos;
}

static void charge(struct gpud_fair_slot *s, uint64_t ns)
{
	uint64_t num;

	if (ns > CHARGE_MAX_NS)
		ns = CHARGE_MAX_NS;
	s->service_ns += ns;
	num = ns * VSCALE + s->vrem;
	s->vtime += num / s->weight;
	s->vrem = num % s->weight;
}

static uint64_t since(const struct gpud_fair_slot *s, uint64_t now)
{
	return now > s->since_ns ? now - s->since_ns : 0;
}

/* @s holds a seat from now on: the system's virtual time is at least its own. */
static void granted(struct gpud_fair *f, struct gpud_fair_slot *s)
{
	s->state = GPUD_FAIR_RUNNING;
	s->served = ++f->next_served;
	s->grants++;
	if (s->vtime > f->vnow)
		f->vnow = s->vtime;
}

/* Give free seats to the first in line. */
static void dispatch(struct gpud_fair *f, uint64_t now)
{
	while (f->nseats < f->concurrency && f->nwaiting) {
		uint32_t i = heap(f)[0];
		struct gpud_fair_slot *s = &f->slots[i];

		heap_remove(f, i);
		seat_take(f, i);
		s->since_ns = now;
		granted(f, s);
		pthread_cond_signal(&s->turn);
	}
}

/*
 * @i gives up its seat (for IDLE). When no device has work any more, the
 * system's virtual time moves up to where @i left off, so that a device
 * arriving later starts level with it rather than with credit.
 */
static void unseat(struct gpud_fair *f, uint32_t i)
{
	struct gpud_fair_slot *s = &f->slots[i];

	seat_free(f, i);
	s->state = GPUD_FAIR_IDLE;
	if (!f->nseats && !f->nwaiting && s->vtime > f->vnow)
		f->vnow = s->vtime;
}

/*
 * Holds that ran out by @now end, charged up to their end, and back off;
 * their seats go to those in line.
 */
static void expire(struct gpud_fair *f, uint64_t now)
{
	uint32_t k = 0;

	while (k < f->nseats) {
		uint32_t i = f->seats[k];
		struct gpud_fair_slot *s = &f->slots[i];

		if (s->state != GPUD_FAIR_HELD || now < s->hold_until_ns) {
			k++;
			continue;
		}
		charge(s, since(s, s->hold_until_ns));
		s->backoff = s->backoff ? s->backoff * 2 : 1;
		if (s->backoff > GPUD_FAIR_MAX_BACKOFF)
			s->backoff = GPUD_FAIR_MAX_BACKOFF;
		s->skip_holds = s->backoff;
		unseat(f, i);	/* moves another seat to @k */
	}
	dispatch(f, now);
}

/* Seats held for a device that comes after the first in line go to it. */
static void break_holds(struct gpud_fair *f, uint64_t now)
{
	while (f->nwaiting && f->nseats == f->concurrency) {
		uint32_t victim = NONE, k;

		for (k = 0; k < f->nseats; k++) {
			uint32_t i = f->seats[k];

			if (f->slots[i].state == GPUD_FAIR_HELD && before(f, heap(f)[0], i) &&
			    (victim == NONE || before(f, victim, i)))
				victim = i;
		}
		if (victim == NONE)
			return;
		charge(&f->slots[victim], since(&f->slots[victim], now));
		unseat(f, victim);
		dispatch(f, now);
	}
}

/*
 * Whether the thread that joined @s is gone (its process died, or it ended
 * without leaving). Under @lock, where nobody waits for @alive.
 */
static bool owner_dead(struct gpud_fair_slot *s)
{
	int ret = pthread_mutex_trylock(&s->alive);

	if (ret == EBUSY)
		return false;
	if (ret == EOWNERDEAD)
		pthread_mutex_consistent(&s->alive);
	pthread_mutex_unlock(&s->alive);
	return true;
}

static void push_free(struct gpud_fair *f, uint32_t i)
{
	f->slots[i].state = GPUD_FAIR_FREE;
	f->slots[i].next_free = f->free_head;
	f->free_head = i;
}

/*
 * Free the slot of a dead device, wherever it stood. Its @turn may have had
 * a waiter that died in it, which pthread_cond_destroy() would wait for
 * forever: it is cleared and set up afresh instead.
 */
static void reap(struct gpud_fair *f, uint32_t i)
{
	struct gpud_fair_slot *s = &f->slots[i];

	if (s->state == GPUD_FAIR_WAITING)
		heap_remove(f, i);
	else if (s->state == GPUD_FAIR_RUNNING || s->state == GPUD_FAIR_HELD)
		seat_free(f, i);
	push_free(f, i);
	memset(&s->turn, 0, sizeof(s->turn));
	init_turn(s);
}

/* Free the seats of dead devices. Returns true if there were any. */
static bool reap_seats(struct gpud_fair *f)
{
	bool any = false;
	uint32_t k = 0;

	while (k < f->nseats) {
		uint32_t i = f->seats[k];

		if (owner_dead(&f->slots[i])) {
			reap(f, i);	/* moves another seat to @k */
			any = true;
		} else {
			k++;
		}
	}
	return any;
}

/*
 * @lock's holder died: it may have left anything half done, so everything
 * derived from the slots' states (seats, heap, free list) is rebuilt from
 * them, after the dead devices' slots are freed.
 */
static void recover(struct gpud_fair *f)
{
	uint32_t i;

	pthread_mutex_consistent(&f->lock);
	f->nseats = 0;
	f->nwaiting = 0;
	f->free_head = NONE;
	for (i = f->nslots; i-- > 0;) {
		struct gpud_fair_slot *s = &f->slots[i];

		if (s->state != GPUD_FAIR_FREE && owner_dead(s)) {
			memset(&s->turn, 0, sizeof(s->turn));
			init_turn(s);
			s->state = GPUD_FAIR_FREE;
		}
		switch (s->state) {
		case GPUD_FAIR_WAITING:
			heap_push(f, i);
			break;
		case GPUD_FAIR_RUNNING:
		case GPUD_FAIR_HELD:
			if (f->nseats < f->concurrency) {
				seat_take(f, i);
				break;
			}
			s->state = GPUD_FAIR_IDLE;
			break;
		case GPUD_FAIR_IDLE:
			break;
		default:
			push_free(f, i);
		}
	}
	dispatch(f, gpud_fair_now());
}

static void fair_lock(struct gpud_fair *f)
{
	if (pthread_mutex_lock(&f->lock) == EOWNERDEAD)
		recover(f);
}

int gpud_fair_join(struct gpud_fair *f, uint32_t weight)
{
	struct gpud_fair_slot *s;
	uint32_t i, k;

	if (!weight)
		return -EINVAL;
	fair_lock(f);
	if (f->free_head == NONE) {
		/* Full: perhaps of devices whose processes died. */
		for (k = 0; k < f->nslots; k++)
			if (f->slots[k].state != GPUD_FAIR_FREE && owner_dead(&f->slots[k]))
				reap(f, k);
		dispatch(f, gpud_fair_now());
	}
	i = f->free_head;
	if (i == NONE) {
		pthread_mutex_unlock(&f->lock);
		return -ENOSPC;
	}
	s = &f->slots[i];
	f->free_head = s->next_free;
	/* Free, so never waited for; EOWNERDEAD if a joiner died with it here. */
	if (pthread_mutex_lock(&s->alive) == EOWNERDEAD)
		pthread_mutex_consistent(&s->alive);
	s->state = GPUD_FAIR_IDLE;
	s->weight = weight;
	s->skip_holds = 0;
	s->backoff = 0;
	s->vtime = f->vnow;
	s->vrem = 0;
	s->served = 0;
	s->service_ns = 0;
	s->grants = 0;
	pthread_mutex_unlock(&f->lock);
	return (int)i;
}

void gpud_fair_leave(struct gpud_fair *f, unsigned int slot, uint64_t now)
{
	struct gpud_fair_slot *s = &f->slots[slot];

	fair_lock(f);
	if (s->state != GPUD_FAIR_FREE) {
		if (s->state == GPUD_FAIR_WAITING)
			heap_remove(f, slot);
		else if (s->state == GPUD_FAIR_RUNNING || s->state == GPUD_FAIR_HELD)
			seat_free(f, slot);
		push_free(f, slot);
		pthread_mutex_unlock(&s->alive);
		dispatch(f, now);
	}
	pthread_mutex_unlock(&f->lock);
}

bool gpud_fair_request(struct gpud_fair *f, unsigned int slot, uint64_t now)
{
	struct gpud_fair_slot *s = &f->slots[slot];
	bool got;

	fair_lock(f);
	expire(f, now);
	if (s->state == GPUD_FAIR_HELD) {
		/* Back within the hold: the seat was kept, and charged, for this. */
		s->backoff = 0;
		granted(f, s);
	} else if (s->state == GPUD_FAIR_IDLE) {
		/* No banking: idle time earns nothing. */
		if (s->vtime < f->vnow) {
			s->vtime = f->vnow;
			s->vrem = 0;
		}
		s->state = GPUD_FAIR_WAITING;
		heap_push(f, slot);
		dispatch(f, now);
		break_holds(f, now);
	}
	got = s->state == GPUD_FAIR_RUNNING;
	pthread_mutex_unlock(&f->lock);
	return got;
}

static struct timespec to_timespec(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000u),
				  .tv_nsec = (long)(ns % 1000000000u) };
}

bool gpud_fair_poll(struct gpud_fair *f, unsigned int slot, uint64_t now)
{
	bool got;

	fair_lock(f);
	expire(f, now);
	got = f->slots[slot].state == GPUD_FAIR_RUNNING;
	pthread_mutex_unlock(&f->lock);
	return got;
}

int gpud_fair_wait(struct gpud_fair *f, unsigned int slot)
{
	struct gpud_fair_slot *s = &f->slots[slot];
	int ret;

	fair_lock(f);
	while (s->state == GPUD_FAIR_WAITING) {
		uint64_t deadline = gpud_fair_now() + GPUD_FAIR_CHECK_NS, now;
		struct timespec ts;
		uint32_t k;

		/* The first in line ends the holds that keep it waiting. */
		if (heap(f)[0] == slot)
			for (k = 0; k < f->nseats; k++) {
				const struct gpud_fair_slot *t = &f->slots[f->seats[k]];

				if (t->state == GPUD_FAIR_HELD && t->hold_until_ns < deadline)
					deadline = t->hold_until_ns;
			}
		ts = to_timespec(deadline);
		ret = pthread_cond_timedwait(&s->turn, &f->lock, &ts);
		if (ret == EOWNERDEAD)
			recover(f);
		now = gpud_fair_now();
		expire(f, now);
		if (ret == ETIMEDOUT && s->state == GPUD_FAIR_WAITING && reap_seats(f))
			dispatch(f, now);
	}
	ret = s->state == GPUD_FAIR_RUNNING ? 0 : -ENOENT;
	pthread_mutex_unlock(&f->lock);
	return ret;
}

int gpud_fair_acquire(struct gpud_fair *f, unsigned int slot)
{
	if (gpud_fair_request(f, slot, gpud_fair_now()))
		return 0;
	return gpud_fair_wait(f, slot);
}

void gpud_fair_release(struct gpud_fair *f, unsigned int slot, uint64_t now)
{
	struct gpud_fair_slot *s = &f->slots[slot];

	fair_lock(f);
	if (s->state == GPUD_FAIR_RUNNING) {
		charge(s, since(s, now));
		if (f->hold_ns && !s->skip_holds &&
		    (!f->nwaiting || before(f, slot, heap(f)[0]))) {
			/* Still owed the most: keep the seat for its next work. */
			s->state = GPUD_FAIR_HELD;
			s->since_ns = now;
			s->hold_until_ns = now + f->hold_ns;
			/* The first in line now waits for the hold to end, not longer. */
			if (f->nwaiting)
				pthread_cond_signal(&f->slots[heap(f)[0]].turn);
		} else {
			if (s->skip_holds)
				s->skip_holds--;
			unseat(f, slot);
			dispatch(f, now);
		}
	}
	pthread_mutex_unlock(&f->lock);
}

void gpud_fair_stats(struct gpud_fair *f, unsigned int slot, struct gpud_fair_stats *st)
{
	const struct gpud_fair_slot *s = &f->slots[slot];

	fair_lock(f);
	st->state = (enum gpud_fair_state)s->state;
	st->service_ns = s->service_ns;
	st->grants = s->grants;
	st->hold_until_ns = s->hold_until_ns;
	pthread_mutex_unlock(&f->lock);
}

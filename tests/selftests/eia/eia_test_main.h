/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EIA_TEST_MAIN: TEST_HARNESS_MAIN, plus running only some tests. 6.1's
 * harness ignores its arguments; with this main, `PROGRAM NAME...` runs the
 * tests named TEST or FIXTURE.TEST (every variant of them) and nothing else.
 * Include after kselftest_harness.h.
 */
#ifndef EIA_TEST_MAIN_H
#define EIA_TEST_MAIN_H

#include <string.h>

static int eia_test_wanted(const struct __fixture_metadata *f,
			   const struct __test_metadata *t, int argc, char **argv)
{
	size_t flen = strlen(f->name);
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], t->name))
			return 1;
		if (!strncmp(argv[i], f->name, flen) && argv[i][flen] == '.' &&
		    !strcmp(argv[i] + flen + 1, t->name))
			return 1;
	}
	return 0;
}

/* Relinks each fixture's test list (next: forward, head->prev: last) with
 * only the wanted tests, in their order.
 */
static void eia_test_filter(int argc, char **argv)
{
	struct __fixture_metadata *f;

	for (f = __fixture_list; f; f = f->next) {
		struct __test_metadata *t = f->tests, *next, *head = NULL, *last = NULL;

		for (; t; t = next) {
			next = t->next;
			if (!eia_test_wanted(f, t, argc, argv))
				continue;
			t->next = NULL;
			if (!head) {
				head = t;
			} else {
				last->next = t;
				t->prev = last;
			}
			last = t;
			head->prev = last;
		}
		f->tests = head;
	}
}

#define EIA_TEST_MAIN							\
	static void __attribute__((constructor))			\
	__constructor_order_last(void)					\
	{								\
		if (!__constructor_order)				\
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	}								\
	int main(int argc, char **argv)					\
	{								\
		eia_test_filter(argc, argv);				\
		return test_harness_run(argc, argv);			\
	}

#endif /* EIA_TEST_MAIN_H */

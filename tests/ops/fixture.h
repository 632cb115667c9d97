/* SPDX-License-Identifier: MIT */
/*
 * The fixture every operator test uses: a 2-thread pool (the harness runs
 * each test in its own process) and the tensors freed afterwards.
 */
#ifndef EIA_TESTS_OPS_FIXTURE_H
#define EIA_TESTS_OPS_FIXTURE_H

#include "kselftest_harness.h"

#include "helpers.h"

FIXTURE(ops) {
	struct eia_pool *pool;
};

FIXTURE_SETUP(ops)
{
	tseed(1);
	ASSERT_EQ(0, eia_pool_create(2, &self->pool));
}

FIXTURE_TEARDOWN(ops)
{
	eia_pool_destroy(self->pool);
	tfree_all();
}

#endif

// SPDX-License-Identifier: MIT
#include "rtest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rt_load(struct mg *g, struct eia_model **m, struct eia_runner_error *err)
{
	size_t len;
	void *buf = mg_pack(g, &len);
	int ret;

	memset(err, 0, sizeof(*err));
	ret = eia_model_open_buffer(buf, len, m, err);
	free(buf);
	if (ret)
		return ret;
	ret = eia_model_prepare(*m, err);
	if (ret) {
		eia_model_close(*m);
		*m = NULL;
	}
	return ret;
}

bool rt_fails(struct mg *g, int code, const char *needle)
{
	struct eia_runner_error err;
	struct eia_model *m;
	int ret = rt_load(g, &m, &err);

	if (!ret) {
		fprintf(stderr, "# expected error %d (%s), got success\n", code, needle);
		eia_model_close(m);
		return false;
	}
	if (ret != code || err.code != code || !strstr(err.msg, needle)) {
		fprintf(stderr, "# expected %d with \"%s\", got %d: %s\n", code, needle, ret,
			err.msg);
		return false;
	}
	fprintf(stderr, "# refused as expected: %s\n", err.msg);
	return true;
}

bool rt_out_shape(struct eia_model *m, int i, int ndim, const int64_t *dims)
{
	struct eia_host_tensor info;
	int k;

	if (eia_model_output(m, i, &info))
		return false;
	if (info.ndim != ndim)
		goto bad;
	for (k = 0; k < ndim; k++)
		if (info.dims[k] != dims[k])
			goto bad;
	return true;
bad:
	fprintf(stderr, "# output %d has rank %d:", i, info.ndim);
	for (k = 0; k < info.ndim; k++)
		fprintf(stderr, " %lld", (long long)info.dims[k]);
	fprintf(stderr, "\n");
	return false;
}

bool rt_plan_sound(struct eia_model *m)
{
	const struct eia_plan_interval *iv;
	struct eia_plan_stats st;
	int n, i, j;

	iv = eia_model_plan(m, &n);
	if (!iv || eia_model_stats(m, &st))
		return false;
	for (i = 0; i < n; i++) {
		if (iv[i].offset % 64 || iv[i].offset + iv[i].size > st.arena_bytes ||
		    iv[i].first > iv[i].last || iv[i].first < -1 || iv[i].last > st.steps) {
			fprintf(stderr, "# interval of %s out of bounds\n", iv[i].name);
			return false;
		}
		for (j = 0; j < i; j++) {
			bool live = iv[i].first <= iv[j].last && iv[j].first <= iv[i].last;
			bool share = iv[i].size && iv[j].size &&
				     iv[i].offset < iv[j].offset + iv[j].size &&
				     iv[j].offset < iv[i].offset + iv[i].size;

			if (live && share) {
				fprintf(stderr, "# %s [%d, %d] and %s [%d, %d] share bytes\n",
					iv[i].name, iv[i].first, iv[i].last, iv[j].name,
					iv[j].first, iv[j].last);
				return false;
			}
		}
	}
	return true;
}

const char *rt_models_dir(void)
{
	const char *d = getenv("EIA_MODELS");

	return d && *d ? d : EIA_MODELS_DIR;
}

const char *rt_model_path(char *buf, size_t len, const char *name, const char *file)
{
	snprintf(buf, len, "%s/%s/%s", rt_models_dir(), name, file);
	return buf;
}

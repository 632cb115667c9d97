// SPDX-License-Identifier: MIT
/*
 * ONNX TensorProto: decoding initializers and attribute tensors, and the
 * .pb tensor files tools and tests read and write. Hosts are little-endian,
 * as raw_data is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

int rt_read_file(const char *path, void **buf, size_t *len,
		 struct eia_runner_error *err)
{
	struct stat st;
	FILE *f = fopen(path, "rb");
	void *p = NULL;

	if (!f)
		return rt_fail(err, EIO, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fclose(f);
		return rt_fail(err, EIO, "%s: not a regular file", path);
	}
	/* malloc(0) may return NULL: keep one byte for an empty file. */
	p = malloc((size_t)st.st_size + 1);
	if (!p) {
		fclose(f);
		return rt_fail(err, ENOMEM, "%s: %lld bytes: out of memory", path,
			       (long long)st.st_size);
	}
	if (fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(p);
		fclose(f);
		return rt_fail(err, EIO, "%s: read failed", path);
	}
	fclose(f);
	*buf = p;
	*len = (size_t)st.st_size;
	return 0;
}

/* Typed fields that hold every element as an int32 (BOOL, F16 and BF16 bits). */
static int rt_from_int32_data(const Onnx__TensorProto *tp, int dtype,
			      size_t numel, void **owned)
{
	size_t i;

	*owned = malloc(numel * rt_dtype_size(dtype) + 1);
	if (!*owned)
		return -ENOMEM;
	for (i = 0; i < numel; i++) {
		if (dtype == EIA_DTYPE_BOOL)
			((uint8_t *)*owned)[i] = tp->int32_data[i] != 0;
		else
			((uint16_t *)*owned)[i] = (uint16_t)tp->int32_data[i];
	}
	return 0;
}

int rt_tensor_proto_decode(const Onnx__TensorProto *tp, const char *what,
			   int *dtype, struct rt_shape *shape,
			   const void **data, size_t *nbytes, void **owned,
			   struct eia_runner_error *err)
{
	const char *name = tp->name ? tp->name : "";
	size_t numel, typed = 0, want;
	int64_t n;
	size_t i;

	*owned = NULL;
	*data = NULL;
	*dtype = rt_dtype_from_onnx(tp->data_type);
	if (!*dtype)
		return rt_fail(err, EOPNOTSUPP,
			       "%s '%s': dtype %s (%d) is not supported (eia has FLOAT, FLOAT16, BFLOAT16, INT64, INT32, BOOL)",
			       what, name, rt_onnx_type_name(tp->data_type),
			       (int)tp->data_type);
	if (tp->n_dims > EIA_MAX_DIMS)
		return rt_fail(err, EOPNOTSUPP, "%s '%s': rank %zu is above %d",
			       what, name, tp->n_dims, EIA_MAX_DIMS);
	if (tp->has_data_location &&
	    tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
		return rt_fail(err, EOPNOTSUPP,
			       "%s '%s': external data is not supported", what, name);
	if (tp->segment)
		return rt_fail(err, EOPNOTSUPP, "%s '%s': segmented tensors are not supported",
			       what, name);
	shape->ndim = (int)tp->n_dims;
	for (i = 0; i < tp->n_dims; i++)
		shape->d[i] = tp->dims[i];
	n = rt_shape_numel(shape, *dtype);
	if (n < 0) {
		char buf[160];

		return rt_fail(err, EINVAL, "%s '%s': absurd dims %s", what, name,
			       rt_shape_str(shape, buf, sizeof(buf)));
	}
	numel = (size_t)n;
	want = numel * rt_dtype_size(*dtype);
	*nbytes = want;

	switch (*dtype) {
	case EIA_DTYPE_F32:
		typed = tp->n_float_data;
		break;
	case EIA_DTYPE_I64:
		typed = tp->n_int64_data;
		break;
	default:
		typed = tp->n_int32_data;
		break;
	}
	if (tp->has_raw_data && tp->raw_data.len) {
		if (typed)
			return rt_fail(err, EINVAL, "%s '%s': both raw and typed data",
				       what, name);
		if (tp->raw_data.len != want)
			return rt_fail(err, EINVAL,
				       "%s '%s': %zu bytes of data for %zu elements of %s (%zu bytes)",
				       what, name, tp->raw_data.len, numel,
				       eia_dtype_name(*dtype), want);
		*data = tp->raw_data.data;
		return 0;
	}
	if (typed != numel)
		return rt_fail(err, EINVAL,
			       "%s '%s': %zu values for %zu elements (dims and data disagree)",
			       what, name, typed, numel);
	if (!numel)
		return 0;
	switch (*dtype) {
	case EIA_DTYPE_F32:
		*data = tp->float_data;
		return 0;
	case EIA_DTYPE_I64:
		*data = tp->int64_data;
		return 0;
	case EIA_DTYPE_I32:
		*data = tp->int32_data;
		return 0;
	}
	if (rt_from_int32_data(tp, *dtype, numel, owned))
		return rt_fail(err, ENOMEM, "%s '%s': out of memory", what, name);
	*data = *owned;
	return 0;
}

int eia_tensor_read_pb(const char *path, struct eia_host_tensor *tensor,
		       struct eia_runner_error *err)
{
	Onnx__TensorProto *tp;
	struct rt_shape shape;
	const void *data;
	void *buf, *owned;
	size_t len, nbytes;
	int dtype, ret;

	memset(tensor, 0, sizeof(*tensor));
	ret = rt_read_file(path, &buf, &len, err);
	if (ret)
		return ret;
	tp = onnx__tensor_proto__unpack(NULL, len, buf);
	free(buf);
	if (!tp)
		return rt_fail(err, EINVAL, "%s: not a TensorProto (truncated or corrupt)",
			       path);
	ret = rt_tensor_proto_decode(tp, path, &dtype, &shape, &data, &nbytes,
				     &owned, err);
	if (!ret) {
		tensor->name = rt_strdup(tp->name ? tp->name : "");
		tensor->data = malloc(nbytes + 1);
		if (!tensor->name || !tensor->data) {
			eia_host_tensor_free(tensor);
			ret = rt_fail(err, ENOMEM, "%s: out of memory", path);
		} else {
			if (nbytes)
				memcpy(tensor->data, data, nbytes);
			tensor->size = nbytes;
			tensor->dtype = dtype;
			tensor->ndim = shape.ndim;
			memcpy(tensor->dims, shape.d, sizeof(shape.d));
		}
	}
	free(owned);
	onnx__tensor_proto__free_unpacked(tp, NULL);
	return ret;
}

int eia_tensor_write_pb(const char *path, const struct eia_host_tensor *tensor,
			struct eia_runner_error *err)
{
	Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
	struct rt_shape shape;
	uint8_t *buf;
	size_t len;
	FILE *f;
	int64_t n;
	int ok;

	shape.ndim = tensor->ndim;
	if (tensor->ndim < 0 || tensor->ndim > EIA_MAX_DIMS)
		return rt_fail(err, EINVAL, "%s: rank %d out of range", path, tensor->ndim);
	memcpy(shape.d, tensor->dims, sizeof(shape.d));
	n = rt_shape_numel(&shape, tensor->dtype);
	if (!rt_dtype_size(tensor->dtype) || n < 0 ||
	    (size_t)n * rt_dtype_size(tensor->dtype) != tensor->size)
		return rt_fail(err, EINVAL, "%s: tensor dtype, dims and size disagree", path);
	tp.n_dims = (size_t)tensor->ndim;
	tp.dims = (int64_t *)tensor->dims;
	tp.has_data_type = 1;
	tp.data_type = rt_dtype_to_onnx(tensor->dtype);
	tp.name = tensor->name ? tensor->name : "";
	tp.has_raw_data = 1;
	tp.raw_data.len = tensor->size;
	tp.raw_data.data = tensor->data;
	len = onnx__tensor_proto__get_packed_size(&tp);
	buf = malloc(len + 1);
	if (!buf)
		return rt_fail(err, ENOMEM, "%s: out of memory", path);
	onnx__tensor_proto__pack(&tp, buf);
	f = fopen(path, "wb");
	if (!f) {
		free(buf);
		return rt_fail(err, EIO, "%s: %s", path, strerror(errno));
	}
	ok = fwrite(buf, 1, len, f) == len;
	ok = !fclose(f) && ok;
	free(buf);
	if (!ok)
		return rt_fail(err, EIO, "%s: write failed", path);
	return 0;
}

void eia_host_tensor_free(struct eia_host_tensor *tensor)
{
	if (!tensor)
		return;
	free(tensor->name);
	free(tensor->data);
	memset(tensor, 0, sizeof(*tensor));
}

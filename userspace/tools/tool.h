/* SPDX-License-Identifier: MIT */
/*
 * What eia-run and eia-bench share: opening a device, loading a model with
 * its inputs (from .pb files or made up deterministically), and reporting
 * errors as one line naming the program.
 */
#ifndef EIA_TOOLS_TOOL_H
#define EIA_TOOLS_TOOL_H

#include <stdbool.h>

#include "eia_runner.h"

/* Most --input files, --output files and --shape options a tool takes. */
#define TOOL_MAX_TENSORS 64

/* Exit statuses: 1 for a failure at run time, 2 for a usage error. */
#define TOOL_EXIT_FAIL 1
#define TOOL_EXIT_USAGE 2

/* The program's name in messages ("eia-run"); set once by main(). */
extern const char *tool_name;

/* "TOOL: ..." on stderr. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tool_err() and "Try 'TOOL --help'.", then exit(TOOL_EXIT_USAGE). */
void tool_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* Parse a positive integer option value no larger than @max, or die. */
long tool_parse_count(const char *opt, const char *arg, long max);

/*
 * A model and the inputs one inference needs, in the model's input order.
 * @inputs[i].name points at the graph input's name (owned here).
 */
struct tool_model {
	struct eia_model *model;
	struct eia_host_tensor inputs[TOOL_MAX_TENSORS];
	int ninputs;
};

/* A "--shape NAME=1x7" option: the dims for a symbolic input. */
struct tool_shape {
	char *name;		/* NULL: the model's only input */
	int ndim;
	int64_t dims[EIA_MAX_DIMS];
};

/* Parse "[NAME=]D0xD1x..." into @shape, or die with a usage error. */
void tool_parse_shape(const char *arg, struct tool_shape *shape);

/*
 * tool_model_load() - open @path, bind its inputs and prepare it
 * @files: .pb input files (TensorProto); each goes to the graph input its
 *	name matches, else to the first input not yet given one
 * @nfiles: their number; 0 (with @synthesize) makes every input up
 * @shapes: dims for symbolic inputs that are made up (may be 0 of them)
 * @synthesize: make up inputs no file gives: dims from the model, symbolic
 *	dims from @shapes, else 1 for the first and 7 for the others (the
 *	article's 7-token input); integers in [0, 1000), floats in [-1, 1),
 *	from a fixed seed
 *
 * Return: 0, or -1 after printing why.
 */
int tool_model_load(struct tool_model *tm, const char *path,
		    const char *const *files, int nfiles,
		    const struct tool_shape *shapes, int nshapes, bool synthesize);

void tool_model_free(struct tool_model *tm);

/* "I64[1,7]" of a tensor into @buf. */
const char *tool_describe(const struct eia_host_tensor *t, char *buf, size_t len);

/*
 * tool_device_open() - eiaInit() and open @name ("eia0", "tcp://...")
 * Return: 0, or -1 after printing libeia's explanation.
 */
int tool_device_open(const char *name, eiaDevice_t *dev);

/* Print libeia's last failure after "@what: ". */
void tool_eia_err(const char *what, eiaError_t e);

#endif /* EIA_TOOLS_TOOL_H */

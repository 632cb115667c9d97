/* SPDX-License-Identifier: MIT */
/*
 * The eia client's version: shown by `eia --version` and reported as
 * "ei_client_version" by `eia describe-accelerators --json`.
 */
#ifndef EIA_CLI_VERSION_H
#define EIA_CLI_VERSION_H

#define EIA_VERSION "0.1.0"

#endif /* EIA_CLI_VERSION_H */

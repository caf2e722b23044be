/*
 * pin.h - SHA-256 of model files, the pin table, and the checks a policy
 * makes on a file before (or instead of) scanning it.  Uses OpenSSL, so
 * it lives in the CLI and the helper, never in the preload.
 */
#ifndef MG_PIN_H
#define MG_PIN_H

#include "policy.h"

/*
 * SHA-256 of the regular file @fd, read with pread only (the caller's
 * offset never moves), written as 64 lowercase hex digits + NUL into @hex.
 * MG_OK, MG_ERR_IO (errno kept) or MG_ERR_NOMEM.
 */
enum mg_err mg_pin_sha256_fd(int fd, char hex[65]) MG_WUR;

/*
 * What the policy says of the open file @fd named @path before scanning:
 * its SHA-256 (into @hex, always computed), the pin table (trusted,
 * deny-pinned, tampered, require_pin) and registry rules, each rule that
 * fires added to @rep as a finding.  *@skip_scan is set to 1 when a pin
 * makes the scan unnecessary (a pinned-allow hash is trusted as is).
 * MG_OK, MG_ERR_IO or MG_ERR_NOMEM.
 */
enum mg_err mg_policy_prescan(const struct mg_policy *p, int fd,
                              const char *path, struct mg_report *rep,
                              char hex[65], int *skip_scan) MG_WUR;

#endif /* MG_PIN_H */

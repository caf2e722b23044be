/*
 * helper_hash.h - when `modelgate helper` hashes a file, and the hash
 * cache it may write while confined.
 */
#ifndef MG_HELPER_HASH_H
#define MG_HELPER_HASH_H

#include "../policy/pin.h"

struct mg_helper_hash {
	struct mg_hashcache cache; /* cache.fd: the one write() target */
	int env_known;   /* the preload's environment could be read */
	int env_log;     /* ... and it sets MODELGATE_LOG */
	char xdg[1024];  /* its XDG_CACHE_HOME, "" if unset */
	char home[1024]; /* its HOME, "" if unset */
	int logs;        /* every decision is logged with its sha256 */
};

/*
 * Before the helper daemonises (getppid() is still the preload's
 * process): read MODELGATE_LOG, XDG_CACHE_HOME and HOME from that
 * process's environment (/proc/PPID/environ: the helper itself is started
 * with none), unless @secure (AT_SECURE: the preload read none).
 */
void mg_helper_hash_env(struct mg_helper_hash *hh, int secure);

/*
 * After the policy @p is loaded, before the workers fork and lock down:
 * decide whether every decision is logged (a log_file, syslog, a locked
 * policy, MODELGATE_LOG, or an environment that could not be read), set
 * up the hash cache and, when the helper may write it (an unlocked
 * policy), open it for appending at a descriptor number no other file can
 * ever take (see helper_hash.c).
 */
void mg_helper_hash_setup(struct mg_helper_hash *hh,
                          const struct mg_policy *p);

/*
 * After the scan of @fd: its SHA-256 into @hex, through the cache, if
 * @hex is still "" and the decision on report @r will be logged (every
 * decision, or this one because its action is audit).  MG_OK (also when
 * nothing was needed) or as mg_pin_sha256_fd().
 */
enum mg_err mg_helper_hash_for_log(const struct mg_helper_hash *hh,
                                   const struct mg_policy *p,
                                   const struct mg_report *r, int fd,
                                   char hex[65]) MG_WUR;

#endif /* MG_HELPER_HASH_H */

/*
 * watch_scope.c - which opens the watch daemon scans: the process (is it
 * Python?) and the file (is it a model candidate?).
 *
 * The process.  The preload asks its own process whether the CPython
 * runtime is in it (dlsym of Py_IsInitialized).  The daemon has to ask
 * from outside, and must never open a file on a watched filesystem to
 * do it: that open would wait for the daemon's own answer.  So it reads
 * only /proc: the executable's name (/proc/PID/exe, matched against the
 * policy's `processes`), and the process's maps: a mapped libpython is
 * Python; so is any ELF object it has mapped whose dynamic string table
 * names Py_IsInitialized (a copy of the interpreter under another name,
 * `ld.so /usr/bin/python3`, a C++ service linking libpython).  The
 * object's headers and string table are read from the process's memory
 * (/proc/PID/mem, at the object's mapping), not from its file.  Each
 * object's answer is cached by (device, inode): a later open by any
 * process re-reads its maps only.  Why not cache per process: a process
 * classified before its interpreter is mapped (ld.so's own opens), or
 * before it dlopen()s libpython, or that exec()s python, would stay
 * "not Python" for good.
 *
 * Rejected: reading the executable's file for its symbols (an open, see
 * above); a per-pid cache (see above).
 *
 * The file: the preload's candidate test (preload/gate.c), rebuilt over
 * the daemon's policy, since the daemon links no preload code.
 */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "watch.h"

/* --- the process ---------------------------------------------------------- */

enum { OBJ_SLOTS = 1024 }; /* why 1024: the distinct ELF objects of a
                              host's processes; a miss costs one read of
                              a few KB of the process's memory */

struct obj {
	unsigned long long dev, ino;
	int used, python;
};

static struct obj objs[OBJ_SLOTS];

static int
read_at(int mem, unsigned long long addr, void *buf, size_t n)
{
	ssize_t got = pread(mem, buf, n, (off_t)addr);

	return got == (ssize_t)n ? 0 : -1;
}

/* The DT_STRTAB address and DT_STRSZ of the object whose ELF header is
 * at @base.  0 or -1 (not an ELF object, or no dynamic section). */
static int
dyn_strtab(int mem, unsigned long long base, unsigned long long *tab,
           unsigned long long *sz)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	Elf64_Dyn d;
	unsigned long long bias = 0, dyn = 0, i;
	int have_load = 0;

	if (read_at(mem, base, &eh, sizeof(eh)) != 0 ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phnum > 256)
		return -1;
	for (i = 0; i < eh.e_phnum; i++) {
		if (read_at(mem, base + eh.e_phoff + i * sizeof(ph), &ph,
		            sizeof(ph)) != 0)
			return -1;
		if (ph.p_type == PT_LOAD && !have_load) {
			/* the first PT_LOAD is the mapping at @base */
			bias = base - (ph.p_vaddr & ~0xfffULL);
			have_load = 1;
		}
		if (ph.p_type == PT_DYNAMIC)
			dyn = ph.p_vaddr;
	}
	if (!have_load || dyn == 0)
		return -1;
	*tab = *sz = 0;
	/* Why 4096 entries: a real dynamic section has a few dozen. */
	for (i = 0; i < 4096; i++) {
		if (read_at(mem, bias + dyn + i * sizeof(d), &d, sizeof(d)) != 0)
			return -1;
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_STRTAB)
			*tab = d.d_un.d_ptr;
		else if (d.d_tag == DT_STRSZ)
			*sz = d.d_un.d_val;
	}
	/* ld.so relocates the main program's and libraries' dynamic
	 * entries in place (absolute), the kernel-loaded ones it does not
	 * touch stay relative to the load bias. */
	if (*tab != 0 && *tab < bias)
		*tab += bias;
	return *tab != 0 && *sz != 0 ? 0 : -1;
}

/* 1 if the object mapped at @base names Py_IsInitialized in its dynamic
 * string table. */
static int
object_is_python(int mem, unsigned long long base)
{
	static const char sym[] = "\0Py_IsInitialized";
	unsigned long long tab, sz;
	char *buf;
	int rc = 0;

	if (dyn_strtab(mem, base, &tab, &sz) != 0)
		return 0;
	/* Why 16 MB: CPython's is ~100 KB; a bound on what a hostile
	 * process can make the daemon read. */
	if (sz > 16u << 20)
		sz = 16u << 20;
	buf = malloc(sz + 1);
	if (buf == NULL)
		return 1; /* cannot tell: in scope */
	if (read_at(mem, tab, buf, sz) == 0) {
		buf[sz] = '\0';
		rc = memmem(buf, sz + 1, sym, sizeof(sym)) != NULL;
	}
	free(buf);
	return rc;
}

static struct obj *
obj_slot(unsigned long long dev, unsigned long long ino)
{
	return &objs[(ino * 31 + dev) % OBJ_SLOTS];
}

/* One line of /proc/PID/maps: 1 if it shows Python.  *@budget counts
 * down the objects read (not cached yet). */
static int
maps_line_python(int mem, const char *line, int *budget)
{
	unsigned long long start, off, ino;
	unsigned maj, min;
	const char *path = strchr(line, '/');
	const char *base;
	struct obj *o;
	char perms[8];

	if (path == NULL ||
	    sscanf(line, "%llx-%*x %7s %llx %x:%x %llu", &start, perms, &off,
	           &maj, &min, &ino) != 6 || off != 0 || ino == 0)
		return 0;
	base = strrchr(path, '/') + 1;
	if (strncmp(base, "libpython", 9) == 0)
		return 1;
	o = obj_slot(makedev(maj, min), ino);
	if (!o->used || o->dev != makedev(maj, min) || o->ino != ino) {
		if (--*budget < 0)
			return 1; /* see runtime_present */
		o->dev = makedev(maj, min);
		o->ino = ino;
		o->python = object_is_python(mem, start);
		o->used = 1;
	}
	return o->python;
}

/*
 * Why a budget of 256 objects not cached yet per look: a process chooses
 * its maps, and one mapping thousands of distinct files would make every
 * one of its opens cost the daemon (and every other opener waiting on
 * it) thousands of reads.  Past the budget the process is in scope: its
 * candidates are scanned, which is the safe side.
 */
static int
runtime_present(pid_t pid)
{
	char p[64], *line = NULL;
	size_t cap = 0;
	FILE *maps;
	int mem, rc = 0, budget = 256;

	snprintf(p, sizeof(p), "/proc/%d/mem", (int)pid);
	mem = open(p, O_RDONLY | O_CLOEXEC);
	snprintf(p, sizeof(p), "/proc/%d/maps", (int)pid);
	maps = fopen(p, "re");
	if (maps == NULL || mem < 0) {
		rc = 1; /* cannot tell: fail closed */
		goto out;
	}
	while (!rc && getline(&line, &cap, maps) > 0)
		rc = maps_line_python(mem, line, &budget);
out:
	free(line);
	if (maps != NULL)
		fclose(maps);
	if (mem >= 0)
		close(mem);
	return rc;
}

int
mg_watch_in_scope(const struct mg_policy *p, pid_t pid, char *exe, size_t cap)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, cap - 1);
	if (n < 0) {
		snprintf(exe, cap, "?");
		return 1;
	}
	exe[n] = '\0';
	if (mg_policy_acts_in(p, exe))
		return 1;
	return runtime_present(pid);
}

/* The parent of @pid from /proc/PID/stat, or -1. */
static pid_t
parent_of(pid_t pid)
{
	char p[64], buf[512], *close_paren;
	ssize_t n;
	int fd, ppid;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold spaces and parentheses */
	close_paren = strrchr(buf, ')');
	if (close_paren == NULL ||
	    sscanf(close_paren + 1, " %*c %d", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

int
mg_watch_is_ours(pid_t pid)
{
	pid_t self = getpid(), p = pid;
	int i;

	/* Why three generations: the helper's server (our child), its
	 * workers, and the reader a worker forks for a Berkeley DB or GDBM
	 * file (scanner/dbm.c), which opens that file again: asking the
	 * helper about it would wait for the very worker waiting on it. */
	for (i = 0; i < 3; i++) {
		p = parent_of(p);
		if (p == self)
			return 1;
		if (p <= 1)
			return 0;
	}
	return 0;
}

/* --- the file ------------------------------------------------------------- */

int
mg_watch_candidate(const struct mg_policy *p, int fd, const char *path,
                   const struct stat *st)
{
	/* The preload's own test (policy/candidate.c): the daemon sends the
	 * helper exactly the files the preload would. */
	return mg_policy_candidate(p, p == NULL || mg_policy_sniff(p), fd, path,
	                           st);
}

/*
 * guard.c - the in-process guard: a CPython audit hook that refuses the
 * globals the deny rules name, for pickles the file gate never sees
 * (pickle.loads of a socket's or an HTTP body's bytes, torch.load and
 * joblib.load of an io.BytesIO, a stream the gate did not recognise).
 *
 * Approach: both unpicklers (_pickle.c and pickle.py) raise the audit
 * event "pickle.find_class" (module, name) before they resolve a global.
 * A C hook registered with PySys_AddAuditHook sees it, classifies the pair
 * with the policy's rules (the same mg_policy_classify the scanner uses,
 * with the Python 2 name mapping and the dotted-name splits the scanner
 * applies), and for a denied pair sets PermissionError and returns -1:
 * find_class raises, and the loader propagates it before the global is
 * imported.  Allowed and unknown globals are left alone: the guard is a
 * deny-list at run time, not the file scanner's verdict.
 *
 * Names no pickle.dumps writes are refused too, before the import: a
 * module whose first part holds a space, a control byte or punctuation
 * (mg_pickle_unimportable), and a name that is no attribute name
 * (mg_pickle_attr_name: "-----", "").  Text lines read as GLOBALs
 * ("comment_char %", "ctest_build\n-----"); the file test calls such a
 * file inert because no import finds the first, and, for data names in
 * a guarded process (gate.c), because the guard stops the second before
 * its module is imported.  This is what makes both hold, so it holds in
 * audit mode too: no pickle of data needs such a name (the loader would
 * fail on it after the import), and a logged-only refusal would let the
 * import run.
 *
 * The C API is found with dlsym (no link against libpython): in
 * RTLD_DEFAULT, or in the handle of a libpython the program dlopen()ed
 * after start (preload.c, late_python), so the guard exists only where
 * the interpreter exports it: Python 3.9
 * and later (3.8 raises the event but lacks PyFrame_GetCode and
 * PyFrame_GetBack, without which the trusted channels below cannot be
 * told apart: a guard that broke multiprocessing would be worse than
 * none).  Elsewhere (non-Python processes, Python 2, 3.8 and older)
 * nothing is registered.  PyFrame_GetLasti (3.11) is optional: without
 * it only pickle.py's code-building calls are recognised.  The hook is registered in the constructor, before
 * Py_Initialize: CPython allows that (the runtime keeps its hook list
 * across initialisation), and it is the only moment this library runs
 * with nothing else going on.  A libpython dlopen()ed later is seen at
 * its interpreter's first open of a .py or .pyc, which Py_Initialize
 * makes (encodings is not frozen) before it counts as initialised; the
 * one thread initialising it is the only one that can run Python then,
 * so the list is not read while the hook is added.  An interpreter found
 * already initialised gets no guard: registering then needs the GIL,
 * which an open, called with it released, cannot take safely.
 *
 * Trusted channels.  multiprocessing, concurrent.futures, DataLoader
 * workers and joblib's loky send pickles of their own objects through
 * their pipes and queues: multiprocessing.pool.mapstar, getattr for bound
 * methods, cloudpickle's code-building helpers.  Every one of those is on
 * the deny-list (rightly: no model file needs them), so a guard applying
 * the list to them would break the program.  The unpickle's caller tells
 * them apart: for the C unpickler it is the innermost Python frame at the
 * event, for pickle.py the first frame outside pickle.py.  When that
 * caller is one of the receiving functions in trusted_callers[] (their
 * data comes from a process of the same program; Python documents that
 * Connection.recv trusts its peer), denied globals are let through.  The
 * bytes cannot choose the caller: code, not data, decides which function
 * calls loads().
 *
 * Code built during an unpickle.  The events "exec", "compile",
 * "code.__new__", "marshal.loads" and "marshal.load" are refused when the
 * unpickler itself made the call, whatever name it found the callable
 * under (an alias the deny-list misses):
 *  - pickle.py: the innermost frame is pickle.py's (load_reduce calls
 *    func(*args); pickle.py never compiles or execs anything itself);
 *  - _pickle.c: at each find_class event the thread records its innermost
 *    frame, code object and instruction offset (the CALL of loads/load);
 *    an exec-family event with the same three is the C unpickler calling
 *    a C function directly.  Imports a benign unpickle causes run their
 *    marshal.loads and exec in importlib's frames, which differ.
 * A call the unpickler makes into Python code that then execs (an unknown
 * function that evals its argument) has that function's frame innermost
 * and is not seen: README, "What the guard does not see".
 *
 * Cost: the hook runs for every audit event (open, import, exec...).  It
 * dispatches on the event name's first bytes and returns for anything
 * else before judge_event's frame is made (8 fewer instructions per
 * open(), of the ~600 CPython spends building the event's arguments);
 * find_class pays a lookup in a cache of allowed pairs (a
 * classification, binary searches with no allocation, on a miss), the
 * exec family a frame lookup (the innermost frame's file).
 *
 * Why the allocator dance: CPython frees its hook list at finalisation
 * with PyMem_RawFree.  The entry was allocated before Py_Initialize, with
 * the allocator in force then (malloc); under PYTHONMALLOC=debug or -X
 * dev the debug hooks installed later check every raw free and abort on
 * a block they did not allocate.  So the entry's address is recorded when
 * it is allocated, and if, at the finalisation event, the raw allocator
 * is no longer the one that allocated it, a wrapper is installed that
 * frees that one block with the original allocator and passes everything
 * else through.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "gate.h"
#include "../scanner/compat.h"
#include "../scanner/pickle_text.h"

typedef struct py_object py_object; /* PyObject, never dereferenced */

/* Why 512 and not the scanner's 4 KiB: the hook runs on the caller's
 * stack, and a Python thread's may be as small as 32 KiB
 * (threading.stack_size); no real module or attribute path comes close,
 * and a longer one is refused, not judged.  Dotted paths: as deep as the
 * scanner follows them (scanner/pickle.c MG_DOTTED_MAX). */
enum { NAME_CAP = 512, DOTTED_CAP = 16, FILE_CAP = 512, FUNC_CAP = 96,
       WHY_CAP = 3 * NAME_CAP + 64 };
typedef int (*hook_fn)(const char *, py_object *, void *);

/* PyMemAllocatorEx (stable since 3.5). */
struct py_alloc {
	void *ctx;
	void *(*malloc)(void *ctx, size_t size);
	void *(*calloc)(void *ctx, size_t nelem, size_t elsize);
	void *(*realloc)(void *ctx, void *ptr, size_t size);
	void (*free)(void *ctx, void *ptr);
};
enum { PY_DOMAIN_RAW = 0 };

/* The C API, resolved once in the constructor. */
static struct {
	int (*add_hook)(hook_fn, void *);
	py_object *(*tuple_item)(py_object *, ssize_t);
	const char *(*utf8)(py_object *, ssize_t *);
	void (*set_string)(py_object *, const char *);
	void (*err_clear)(void);
	py_object **permission_error;
	py_object *(*get_frame)(void);
	py_object *(*frame_code)(py_object *);
	py_object *(*frame_back)(py_object *);
	int (*frame_lasti)(py_object *); /* 3.11+; NULL before */
	py_object *(*getattr)(py_object *, const char *);
	py_object *(*modules)(void);                 /* sys.modules */
	py_object *(*dict_get)(py_object *, const char *); /* borrowed */
	py_object *(*module_dict)(py_object *);      /* NULL: not a module */
	py_object *(*import)(const char *);
	void (*decref)(py_object *);
	void (*get_alloc)(int, struct py_alloc *);
	void (*set_alloc)(int, struct py_alloc *);
	int (*at_exit)(void (*)(void));              /* Py_AtExit */
	long (*as_long)(py_object *);                /* PyLong_AsLong */
} api;

static enum mg_guard_mode mode;

int mg_guard_refusing;

/* The hook entry CPython allocated for us, and the allocator it came
 * from (see the top of the file). */
static void *entry;
static struct py_alloc entry_alloc, recording, passthrough;
/* The raw allocator in force at the finalisation event, which the
 * passthrough forwards to. */
static struct py_alloc cleared_alloc;

/* Per thread: where the C unpickler last resolved a global. */
struct site {
	const void *frame, *code;
	int lasti;
	int valid;
};
static __thread struct site last_site __attribute__((tls_model("initial-exec")));

/* --- the unpickle's caller ------------------------------------------------ */

/* Receiving functions whose pickles come from the same program (file
 * suffix, function).  Each is the only caller of loads/load in its file
 * that a test reaches; see tests/integration/test_preload_guard. */
static const struct {
	const char *file, *func;
} trusted_callers[] = {
	/* Connection.recv: Pool results, ProcessPoolExecutor, managers. */
	{ "/multiprocessing/connection.py", "recv" },
	/* Queue.get, SimpleQueue.get: Pool tasks, DataLoader workers,
	 * ProcessPoolExecutor call items, loky. */
	{ "/multiprocessing/queues.py", "get" },
	/* A spawn or forkserver child reading its process object. */
	{ "/multiprocessing/spawn.py", "_main" },
	/* loky's own spawn child (run as a script: the load is module
	 * code), and the cloudpickled payload it unwraps (reached from an
	 * untrusted unpickle only through joblib.externals.loky, which the
	 * deny-list refuses). */
	{ "/loky/backend/popen_loky_posix.py", "<module>" },
	{ "/loky/cloudpickle_wrapper.py", "_reconstruct_wrapper" },
};

/* The text of attribute @attr of @obj into @out; a longer text keeps its
 * last @cap - 1 bytes (what a suffix test needs).  Why memcpy and not
 * snprintf: on_code asks this of every exec and marshal.loads an import
 * makes, and snprintf was half its cost. */
static void
attr_text(py_object *obj, const char *attr, char *out, size_t cap)
{
	py_object *v = api.getattr(obj, attr);
	const char *s = NULL;
	ssize_t n = 0;

	out[0] = '\0';
	if (v != NULL)
		s = api.utf8(v, &n);
	if (s != NULL && n >= 0) {
		if ((size_t)n >= cap) {
			s += (size_t)n - (cap - 1);
			n = (ssize_t)(cap - 1);
		}
		memcpy(out, s, (size_t)n);
		out[n] = '\0';
	} else {
		api.err_clear();
	}
	if (v != NULL)
		api.decref(v);
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), e = strlen(suffix);

	return n >= e && strcmp(s + n - e, suffix) == 0;
}

/* The file and function of frame @f's code into @file / @func (NULL:
 * the file alone). */
static void
frame_where(py_object *f, char *file, size_t fcap, char *func, size_t ncap)
{
	py_object *code = api.frame_code(f);

	file[0] = '\0';
	if (func != NULL)
		func[0] = '\0';
	if (code == NULL)
		return;
	attr_text(code, "co_filename", file, fcap);
	if (func != NULL)
		attr_text(code, "co_name", func, ncap);
	api.decref(code);
}

/*
 * The unpickle's caller, from the innermost frame @f: the first frame
 * whose file is not pickle.py.  Fills @file and @func ("" when there is
 * no Python frame: an unpickle started from C).  Why at most 16 frames:
 * pickle.py's load, its dispatch and find_class are three deep.
 */
static void
unpickle_caller(py_object *f, char *file, size_t fcap, char *func,
                size_t ncap)
{
	py_object *back;
	int depth;

	file[0] = func[0] = '\0';
	if (f == NULL)
		return;
	frame_where(f, file, fcap, func, ncap);
	for (depth = 0; depth < 16 && ends_with(file, "/pickle.py"); depth++) {
		back = api.frame_back(f);
		if (depth > 0)
			api.decref(f);
		f = back;
		if (f == NULL) {
			file[0] = func[0] = '\0';
			return;
		}
		frame_where(f, file, fcap, func, ncap);
	}
	if (depth > 0)
		api.decref(f);
}

static int
trusted(const char *file, const char *func)
{
	size_t i;

	for (i = 0; i < sizeof(trusted_callers) / sizeof(trusted_callers[0]);
	     i++)
		if (strcmp(func, trusted_callers[i].func) == 0 &&
		    ends_with(file, trusted_callers[i].file))
			return 1;
	return 0;
}

/* --- the deny rules ------------------------------------------------------- */

static const struct mg_policy *
rules(void)
{
	return mg_state.policy ? mg_state.policy : mg_state.defaults;
}

/*
 * Globals the deny-list names only because the file scanner cannot see
 * what they load, whose nested load is an unpickle this hook guards too:
 * torch.storage._load_from_bytes is torch.load(io.BytesIO(b)), and is
 * what pickle.dumps() of any tensor writes (torch.distributed object
 * collectives do that).
 */
static int
nested_guarded(const char *mod, const char *name)
{
	return strcmp(mod, "torch.storage") == 0 &&
	       strcmp(name, "_load_from_bytes") == 0;
}

/*
 * 1 if (@mod, @name) is denied, as the scanner decides it for a global:
 * the pair, and for a dotted name (protocol >= 4 resolves "a.b" one
 * getattr at a time) every (module path, attribute) split the chain
 * passes through.  *@why gets "MODULE NAME is denied (CATEGORY)".
 */
static int
pair_denied(const char *mod, const char *name, char *why, size_t cap)
{
	const char *cat = NULL, *comp[DOTTED_CAP + 1], *c = name;
	char m[2 * NAME_CAP + 2], nm[NAME_CAP + 1];
	size_t k = 0, a, b;

	if (mg_policy_classify(rules(), mod, name, &cat) == MG_GLOBAL_DENIED) {
		snprintf(why, cap, "global %s %s is denied (%s)", mod, name,
		         cat ? cat : "denied");
		return 1;
	}
	comp[k++] = name;
	while ((c = strchr(c, '.')) != NULL && k < DOTTED_CAP)
		comp[k++] = ++c;
	if (c != NULL) {
		snprintf(why, cap, "global %s %s: attribute path deeper than %d",
		         mod, name, DOTTED_CAP);
		return 1;
	}
	/* Each component c[b] is an attribute of what comes before it: the
	 * module and c[0..b) (a == b), or a module some c[a] named. */
	for (b = 0; k > 1 && b < k; b++) {
		snprintf(nm, sizeof(nm), "%.*s", (int)strcspn(comp[b], "."),
		         comp[b]);
		for (a = 0; a <= b; a++) {
			if (a == b && b == 0)
				snprintf(m, sizeof(m), "%s", mod);
			else if (a == b)
				snprintf(m, sizeof(m), "%s.%.*s", mod,
				         (int)(comp[b] - 1 - name), name);
			else
				snprintf(m, sizeof(m), "%.*s",
				         (int)(comp[b] - 1 - comp[a]), comp[a]);
			cat = NULL;
			if (mg_policy_classify(rules(), m, nm, &cat) ==
			    MG_GLOBAL_DENIED) {
				snprintf(why, cap, "global %s %s reaches %s %s, "
				         "which is denied (%s)", mod, name, m, nm,
				         cat ? cat : "denied");
				return 1;
			}
		}
	}
	return 0;
}

/*
 * Pairs recently judged not denied.  Why: a classification is a dozen
 * binary searches over 15,000 entries (1-2 us), and a loop of small
 * unpickles asks about the same few pairs again and again; the policy
 * never changes in a process.  Only "not denied" is kept (a denial is
 * rare and prints anyway), under the full key, so a collision can only
 * cost a miss.  Why 4-way sets: direct-mapped, two pairs of one loop that
 * shared a slot evicted each other on every load.  Why trylock: a fork()
 * while another thread held the lock must not leave the child's next
 * unpickle waiting forever; a busy lock is a miss.  Lookups take no lock:
 * each set is a sequence lock its stores make odd, and a lookup that
 * sees it odd or changed is a miss (a set left odd by a fork in the
 * middle of a store misses in the child for ever: a classification each
 * time, not a wrong answer).
 */
enum { ALLOWED_SETS = 64, ALLOWED_WAYS = 4, ALLOWED_KEY = 96 };
static struct {
	struct {
		char key[ALLOWED_KEY]; /* "module\0name\0" */
		size_t len;            /* 0: empty */
	} way[ALLOWED_WAYS];
	unsigned next;                 /* the way the next store replaces */
	unsigned seq;                  /* odd while a store writes */
} allowed[ALLOWED_SETS];
static pthread_mutex_t allowed_lock = PTHREAD_MUTEX_INITIALIZER;

/* The key "module\0name\0" into @key (ALLOWED_KEY + 8 bytes); its
 * length, or 0 when it does not fit.  *@set gets its set. */
static size_t
allowed_key(const char *mod, const char *name, char *key, unsigned *set)
{
	size_t ml = strlen(mod), nl = strlen(name), i, len;
	uint64_t h = 0x9e3779b97f4a7c15ull, w;

	if (ml + nl + 2 > ALLOWED_KEY)
		return 0;
	memcpy(key, mod, ml + 1);
	memcpy(key + ml + 1, name, nl + 1);
	len = ml + nl + 2;
	/* Why by words: a byte at a time was most of a lookup's cost, paid
	 * on every find_class; the key is compared in full anyway. */
	memset(key + len, 0, 8);        /* the last word's padding */
	for (i = 0; i < len; i += 8) {
		memcpy(&w, key + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	*set = (unsigned)(h % ALLOWED_SETS);
	return len;
}

/* 1 if the pair is in the cache (@put 0), or store it (@put 1). */
static int
allowed_cache(const char *mod, const char *name, int put)
{
	char key[ALLOWED_KEY + 8];
	unsigned set = 0, w, seq;
	size_t len = allowed_key(mod, name, key, &set);
	int hit = 0;

	if (len == 0)
		return 0;
	if (!put) {
		seq = __atomic_load_n(&allowed[set].seq, __ATOMIC_ACQUIRE);
		if (seq & 1)
			return 0;
		for (w = 0; !hit && w < ALLOWED_WAYS; w++)
			hit = allowed[set].way[w].len == len &&
			      memcmp(allowed[set].way[w].key, key, len) == 0;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		return hit && __atomic_load_n(&allowed[set].seq,
		                              __ATOMIC_RELAXED) == seq;
	}
	if (pthread_mutex_trylock(&allowed_lock) != 0)
		return 0;
	seq = __atomic_load_n(&allowed[set].seq, __ATOMIC_RELAXED);
	__atomic_store_n(&allowed[set].seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	w = allowed[set].next++ % ALLOWED_WAYS;
	allowed[set].way[w].len = 0;
	memcpy(allowed[set].way[w].key, key, len);
	allowed[set].way[w].len = len;
	__atomic_store_n(&allowed[set].seq, seq + 2, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&allowed_lock);
	return 0;
}

/*
 * builtins.getattr is what pickle.dumps writes for every enum and flag
 * member (Enum.__reduce_ex__: getattr(cls, "NAME")): refusing it would
 * break re.RegexFlag, IntEnum and torch.distributed.checkpoint metadata in
 * memory.  The scanner defers its judgment to the getattr's arguments;
 * the guard cannot see them (no event comes with a call), so it defers to
 * what getattr can be handed: a global the guard judged (never a denied
 * one, never a module object: module_object below), or what the
 * unpickler built, and the restricted attributes that open a function's
 * globals or code raise "object.__getattr__", which on_code refuses when
 * the unpickler itself asks.
 */
static int
is_getattr(const char *mod, const char *name)
{
	return (strcmp(mod, "builtins") == 0 || strcmp(mod, "__builtin__") == 0)
	       && strcmp(name, "getattr") == 0;
}

/*
 * 1 if global (@mod, @name) is a module object, looked up in the module's
 * dictionary (no attribute code runs): no pickle.dumps output names one
 * (modules cannot be pickled), and a module handed to getattr opens every
 * name in it ("torch.serialization os", then getattr(os, "system")).  A
 * module not imported yet is imported here, as find_class does right after
 * this event; an import that fails is left for find_class to report.  Only
 * the first component of a dotted name is looked at (a deeper one is
 * judged by pair_denied's splits).  Why mg_busy is put back for the
 * import: the files it opens must be gated like any other.
 */
static int
module_object(const char *mod, const char *name, int busy)
{
	char first[NAME_CAP + 1];
	py_object *m, *d, *o;
	int saved = mg_busy;

	m = api.dict_get(api.modules(), mod);
	if (m == NULL) {
		mg_busy = busy;
		o = api.import(mod);
		mg_busy = saved;
		if (o == NULL) {
			api.err_clear();
			return 0;
		}
		api.decref(o);
		if ((m = api.dict_get(api.modules(), mod)) == NULL)
			return 0;
	}
	if ((d = api.module_dict(m)) == NULL) {
		api.err_clear(); /* sys.modules holds a non-module */
		return 0;
	}
	snprintf(first, sizeof(first), "%.*s", (int)strcspn(name, "."), name);
	if ((o = api.dict_get(d, first)) == NULL)
		return 0;
	if (api.module_dict(o) != NULL)
		return 1;
	api.err_clear();
	return 0;
}

/* The pair as the loader may resolve it: as written (protocol >= 3) and
 * through the Python 2 names (protocol < 3, which the event does not
 * say): denied if either is (1), or 2 for a name no pickle.dumps writes,
 * which is refused in audit mode too (see the top of the file). */
static int
global_denied(const char *mod, const char *name, char *why, size_t cap,
              int busy)
{
	const char *m2, *n2;

	if (strlen(mod) >= NAME_CAP || strlen(name) >= NAME_CAP) {
		snprintf(why, cap, "global name longer than %d bytes",
		         NAME_CAP - 1);
		return 1;
	}
	/* Why after the cache: a pair it holds passed these tests. */
	if (nested_guarded(mod, name) || allowed_cache(mod, name, 0))
		return 0;
	if (mg_pickle_unimportable((const uint8_t *)mod, strlen(mod)) ||
	    !mg_pickle_attr_name((const uint8_t *)name, strlen(name))) {
		snprintf(why, cap, "global %s %s is no name pickle.dumps writes "
		         "(a text line read as a pickle?)", mod, name);
		return 2;
	}
	if (is_getattr(mod, name))
		return 0; /* deferred: see is_getattr */
	if (pair_denied(mod, name, why, cap))
		return 1;
	if (mg_compat_map(mod, name, &m2, &n2) &&
	    pair_denied(m2, n2, why, cap))
		return 1;
	if (module_object(mod, name, busy)) {
		snprintf(why, cap, "global %s %s is a module object (no pickle "
		         "of data names one)", mod, name);
		return 1;
	}
	(void)allowed_cache(mod, name, 1);
	return 0;
}

/* --- refusing ------------------------------------------------------------- */

/* The stderr line, the log record and, when denying (@hard: in audit
 * mode too), the exception.  Returns the hook's answer: -1 refuse, 0 let
 * it be. */
static int
refuse(const char *event, const char *what, const char *why,
       const char *file, const char *func, int hard)
{
	char line[WHY_CAP + 2 * FILE_CAP + 128], where[FILE_CAP + FUNC_CAP + 32];
	int n;

	snprintf(where, sizeof(where), "%s%s%s", file[0] ? file : "(no Python "
	         "frame)", func[0] ? ":" : "", func);
	if (mode == MG_GUARD_DENY)
		hard = 1;
	mg_audit_guard(event, what, hard ? "deny" : "audit", why, where);
	if (!hard)
		return 0;
	n = snprintf(line, sizeof(line), "modelgate: denied unpickle: %s "
	             "(in-process guard, %s, called from %s)\n", why, event,
	             where);
	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n < sizeof(line) ?
		             (size_t)n : sizeof(line) - 1);
	/* The exception says it too, without the prefix and the newline. */
	if (n > 12 && (size_t)n < sizeof(line))
		line[n - 1] = '\0';
	api.set_string(*api.permission_error, line + 11);
	return -1;
}

/* --- the events ----------------------------------------------------------- */

/* Item @i of the event's argument tuple as UTF-8 into @out; -1 when it is
 * not text (then the pair cannot be judged: refused). */
static int
arg_text(py_object *args, ssize_t i, char *out, size_t cap)
{
	py_object *o = api.tuple_item(args, i);
	const char *s = NULL;
	ssize_t n = 0;

	if (o != NULL)
		s = api.utf8(o, &n);
	if (s == NULL) {
		api.err_clear();
		return -1;
	}
	/* A longer name is cut to cap - 1 bytes here, which global_denied
	 * refuses as too long.  Why memcpy: this runs for every global. */
	if (n < 0 || n >= (ssize_t)cap)
		n = (ssize_t)cap - 1;
	memcpy(out, s, (size_t)n);
	out[n] = '\0';
	return 0;
}

/* Record where the C unpickler is (the innermost frame), for on_code. */
static void
note_site(py_object *f)
{
	py_object *code;

	last_site.valid = 0;
	if (f == NULL || api.frame_lasti == NULL ||
	    (code = api.frame_code(f)) == NULL)
		return;
	last_site.frame = f;
	last_site.code = code;
	last_site.lasti = api.frame_lasti(f);
	last_site.valid = 1;
	api.decref(code);
}

static int
on_find_class(py_object *args, int busy)
{
	char mod[NAME_CAP + 1], name[NAME_CAP + 1], what[2 * NAME_CAP + 2];
	char why[WHY_CAP], file[FILE_CAP], func[FUNC_CAP];
	py_object *f = api.get_frame();
	int denied = 1;

	note_site(f);
	if (arg_text(args, 0, mod, sizeof(mod)) != 0 ||
	    arg_text(args, 1, name, sizeof(name)) != 0) {
		snprintf(what, sizeof(what), "(not text)");
		snprintf(why, sizeof(why), "a global whose module or name is "
		         "not text cannot be judged");
	} else {
		denied = global_denied(mod, name, why, sizeof(why), busy);
		if (!denied)
			return 0;
		snprintf(what, sizeof(what), "%s %s", mod, name);
	}
	/* Only a denied global costs the frame walk. */
	unpickle_caller(f, file, sizeof(file), func, sizeof(func));
	if (trusted(file, func))
		return 0;
	return refuse("pickle.find_class", what, why, file, func,
	              denied == 2);
}

/* @f is still at the call where the C unpickler last resolved a global. */
static int
at_site(py_object *f)
{
	py_object *code;
	int same;

	if (!last_site.valid || (void *)f != last_site.frame ||
	    api.frame_lasti(f) != last_site.lasti)
		return 0;
	code = api.frame_code(f);
	same = code != NULL && (void *)code == last_site.code;
	if (code != NULL)
		api.decref(code);
	return same;
}

/* Refuse @event, a call the unpickler made (@what it runs), unless the
 * unpickle's caller @file:@func is a trusted channel. */
static int
refuse_call(const char *event, const char *what, const char *file,
            const char *func)
{
	char why[160];

	if (trusted(file, func))
		return 0;
	snprintf(why, sizeof(why), "the unpickler called %s: %s", event, what);
	return refuse(event, event, why, file, func, 0);
}

/* exec, compile, code.__new__, marshal.load(s): refused when the
 * unpickler itself makes the call (see the top of the file). */
static int
on_code(const char *event)
{
	char file[FILE_CAP], func[FUNC_CAP];
	py_object *f = api.get_frame();
	int direct;

	if (f == NULL)
		return 0;
	direct = api.frame_lasti != NULL && at_site(f);
	if (!direct) {
		frame_where(f, file, sizeof(file), NULL, 0);
		direct = ends_with(file, "/pickle.py");
	}
	if (!direct)
		return 0;
	unpickle_caller(f, file, sizeof(file), func, sizeof(func));
	return refuse_call(event, "code built from the pickle's data", file,
	                   func);
}

/* The modules whose own Python frames lie between a call and the event
 * it raises: subprocess.Popen's is raised two frames into subprocess.py,
 * os.spawn*'s in os.py, ctypes.CDLL's dlopen in ctypes/__init__.py. */
static int
event_library(const char *file)
{
	static const char *const libs[] = {
		"/subprocess.py", "/os.py", "/ctypes/__init__.py",
		/* the effects' (effect_events): socket.create_connection's
		 * connect, shutil's own events, urlopen's and http.client's */
		"/socket.py", "/shutil.py", "/urllib/request.py",
		"/http/client.py", "/ftplib.py", "/smtplib.py",
		"/webbrowser.py", NULL
	};
	size_t i;

	for (i = 0; libs[i] != NULL; i++)
		if (ends_with(file, libs[i]))
			return 1;
	return 0;
}

/*
 * Whether the unpickler itself called what raised the event, from the
 * innermost frame @f: past the event's own library frames, a frame
 * at_site() (the C unpickler's REDUCE runs in its caller's frame) or
 * pickle.py's.  Not when any other Python code is between (a class's
 * __setstate__ that runs a program: an object's own code, which the
 * guard leaves alone).  Fills @file and @func with the unpickle's caller
 * ("" when started from C).  Why at most 16 frames: two of the library,
 * three of pickle.py, and their caller.
 */
static int
unpickler_called(py_object *f, char *file, size_t fcap, char *func,
                 size_t ncap)
{
	py_object *cur = f, *back;
	int depth, direct = 0, in_py = 0, done = 0;

	for (depth = 0; cur != NULL && depth < 16 && !done; depth++) {
		if (!in_py && at_site(cur)) {
			frame_where(cur, file, fcap, func, ncap);
			direct = done = 1;
			break;
		}
		frame_where(cur, file, fcap, func, ncap);
		if (ends_with(file, "/pickle.py"))
			in_py = direct = 1;
		else if (in_py || !event_library(file))
			break;  /* the caller below pickle.py, or other code */
		back = api.frame_back(cur);
		if (depth > 0)
			api.decref(cur);
		cur = back;
	}
	if (cur != NULL && depth > 0)
		api.decref(cur);
	if (!direct || (in_py && cur == NULL))
		file[0] = func[0] = '\0';
	return direct;
}

/*
 * A call the unpickler itself made that raised @event (spawn_events,
 * effect_events): refused, @what saying what it did.  The spawn events:
 * os.system, os.exec, os.spawn, os.posix_spawn, subprocess.Popen and
 * ctypes.dlopen.  Why: a getattr
 * chain through attributes CPython does not audit (a function's
 * __globals__, a builtin's __self__) reaches a denied callable without
 * naming it to find_class, but the call raises one of these events, and
 * the unpickler calls what the pickle's data chose.  The unpickle's
 * caller may still be a trusted channel.
 */
static int
on_call(const char *event, const char *what)
{
	char file[FILE_CAP], func[FUNC_CAP];
	py_object *f = api.get_frame();

	if (f == NULL || api.frame_lasti == NULL ||
	    !unpickler_called(f, file, sizeof(file), func, sizeof(func)))
		return 0;
	return refuse_call(event, what, file, func);
}

/* @event is in the NULL-ended @list. */
static int
listed(const char *event, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(event, list[i]) == 0)
			return 1;
	return 0;
}

static const char *const spawn_events[] = {
	"os.system", "os.exec", "os.spawn", "os.posix_spawn",
	"os.startfile", "subprocess.Popen", "ctypes.dlopen", NULL
};

/*
 * What a pickle's data can have the unpickler do besides running a
 * program or building code: write, remove or rename a file, make a
 * directory or a link, send a signal, set an environment variable, look
 * up a host, open a connection.  Why: the same getattr chains (a
 * function's __globals__, a builtin's __self__) reach os.remove,
 * io.open(P, "w") and socket.create_connection without naming them to
 * find_class; each raises one of these events, or "open" with flags that
 * write (on_open).  Refused as the spawn events are: only when the unpickler
 * itself made the call, past the event's library frames, and not in a
 * trusted channel.  An object's own code (a __setstate__ that writes a
 * cache file) has its frame innermost and is left alone.
 */
static const char *const effect_events[] = {
	"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.truncate",
	"os.chmod", "os.chown", "os.link", "os.symlink", "os.kill",
	"os.killpg", "os.putenv", "os.unsetenv", "shutil.rmtree",
	"shutil.copyfile", "shutil.copytree", "shutil.move", "shutil.chown",
	"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
	"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
	"urllib.Request", "http.client.connect", "ftplib.connect",
	"smtplib.connect", "webbrowser.open", NULL
};

#define EFFECT "a file or network operation from the pickle's data"

/*
 * "open" (path, mode, flags), raised by every open of every file: looked
 * at only in a thread that has resolved a global (note_site) and only
 * when the flags write; then as effect_events.  Reads stay alone: find_class's
 * imports read .pyc files, and a read changes nothing.
 */
static int
on_open(py_object *args)
{
	py_object *fl;
	long flags;

	if (!last_site.valid || api.as_long == NULL ||
	    (fl = api.tuple_item(args, 2)) == NULL) {
		api.err_clear();
		return 0;
	}
	flags = api.as_long(fl);
	if (flags == -1) {
		api.err_clear();
		return 0;
	}
	if ((flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) == 0)
		return 0;
	return on_call("open", EFFECT);
}

/* A raw free of the hook entry goes to the allocator that made it. */
static void
passthrough_free(void *ctx, void *ptr)
{
	struct py_alloc *cur = ctx;

	if (ptr != NULL && ptr == entry) {
		entry = NULL;
		entry_alloc.free(entry_alloc.ctx, ptr);
		return;
	}
	cur->free(cur->ctx, ptr);
}

static void *
passthrough_malloc(void *ctx, size_t n)
{
	struct py_alloc *cur = ctx;

	return cur->malloc(cur->ctx, n);
}

static void *
passthrough_calloc(void *ctx, size_t k, size_t n)
{
	struct py_alloc *cur = ctx;

	return cur->calloc(cur->ctx, k, n);
}

static void *
passthrough_realloc(void *ctx, void *ptr, size_t n)
{
	struct py_alloc *cur = ctx;

	return cur->realloc(cur->ctx, ptr, n);
}

static void reinstall(void);

/* The finalisation event, just before the hook list is freed.  Why
 * Py_AtExit: its functions run at the end of Py_FinalizeEx, after the
 * list is gone, with the runtime as it was before Py_Initialize; the
 * hook registered then is the one a second Py_Initialize (an embedding
 * host restarting its interpreter) starts with.  At a process's exit it
 * is one block CPython never frees. */
static void
on_clear_hooks(void)
{
	mg_guard_refusing = 0;
	if (entry == NULL || api.get_alloc == NULL || api.set_alloc == NULL)
		return;
	if (api.at_exit != NULL)
		(void)api.at_exit(reinstall);
	api.get_alloc(PY_DOMAIN_RAW, &cleared_alloc);
	if (memcmp(&cleared_alloc, &entry_alloc, sizeof(cleared_alloc)) == 0) {
		entry = NULL;   /* CPython frees it as it was allocated */
		return;
	}
	passthrough.ctx = &cleared_alloc;
	passthrough.malloc = passthrough_malloc;
	passthrough.calloc = passthrough_calloc;
	passthrough.realloc = passthrough_realloc;
	passthrough.free = passthrough_free;
	api.set_alloc(PY_DOMAIN_RAW, &passthrough);
}

/* The events hook() judges.  Why errno is kept: an event can come
 * between a call and the caller's reading of its errno. */
static __attribute__((noinline)) int
judge_event(const char *event, py_object *args)
{
	int saved_busy = mg_busy, saved_errno, rc = 0;

	saved_errno = errno;
	mg_busy = 1;
	if (event[0] == 'o' && event[1] == 'p')
		rc = on_open(args);
	else if (strcmp(event, "pickle.find_class") == 0)
		rc = on_find_class(args, saved_busy);
	else if (strcmp(event, "exec") == 0 || strcmp(event, "compile") == 0 ||
	         strcmp(event, "code.__new__") == 0 ||
	         strcmp(event, "marshal.loads") == 0 ||
	         strcmp(event, "marshal.load") == 0 ||
	         strcmp(event, "object.__getattr__") == 0)
		rc = on_code(event);
	else if (strcmp(event, "cpython._PySys_ClearAuditHooks") == 0)
		on_clear_hooks();
	else if (listed(event, spawn_events))
		rc = on_call(event, "a program or library started from the "
		             "pickle's data");
	else if (listed(event, effect_events))
		rc = on_call(event, EFFECT);
	mg_busy = saved_busy;
	errno = saved_errno;
	return rc;
}

/* The audit hook: the events it leaves alone (most: "open" outside an
 * unpickle, "import", ...) return before judge_event's frame is made,
 * since every open() of the process raises one. */
static int
hook(const char *event, py_object *args, void *ud)
{
	(void)ud;
	switch (event[0]) {
	case 'p': case 'e': case 'm': case 'c':
	case 'u': case 'h': case 'f': case 'w':
		break;
	case 'o':       /* "object.__getattr__", "os.*", and "open" in a
	                   thread that has unpickled (on_open) */
		if (event[1] == 'b' || (event[1] == 's' && event[2] == '.'))
			break;
		if (event[1] == 'p' && last_site.valid &&
		    strcmp(event, "open") == 0)
			break;
		return 0;
	case 's':       /* "subprocess.Popen", "socket.*", "shutil.*" */
		if (event[1] == 'u' || event[1] == 'o' || event[1] == 'h')
			break;
		return 0;
	default:
		return 0;
	}
	return judge_event(event, args);
}

/* --- registering ---------------------------------------------------------- */

static void *
recording_malloc(void *ctx, size_t n)
{
	(void)ctx;
	entry = entry_alloc.malloc(entry_alloc.ctx, n);
	return entry;
}

/* Where the C API is looked up: RTLD_DEFAULT, or the handle of a
 * libpython loaded later with RTLD_LOCAL (mg_guard_install). */
static void *scope;

static void *
sym(const char *name)
{
	void *p = dlsym(scope, name);

	if (p == NULL) {
		(void)dlerror(); /* hands the message over... */
		(void)dlerror(); /* ...and frees it */
	}
	return p;
}

/* Resolve the C API; 0 when this interpreter has what the guard needs. */
static int
resolve_api(void)
{
	api.add_hook = (int (*)(hook_fn, void *))sym("PySys_AddAuditHook");
	if (api.add_hook == NULL)
		return -1;
	api.tuple_item = (py_object *(*)(py_object *, ssize_t))
	                 sym("PyTuple_GetItem");
	api.utf8 = (const char *(*)(py_object *, ssize_t *))
	           sym("PyUnicode_AsUTF8AndSize");
	api.set_string = (void (*)(py_object *, const char *))
	                 sym("PyErr_SetString");
	api.err_clear = (void (*)(void))sym("PyErr_Clear");
	api.permission_error = (py_object **)sym("PyExc_PermissionError");
	api.get_frame = (py_object *(*)(void))sym("PyEval_GetFrame");
	api.frame_code = (py_object *(*)(py_object *))sym("PyFrame_GetCode");
	api.frame_back = (py_object *(*)(py_object *))sym("PyFrame_GetBack");
	api.frame_lasti = (int (*)(py_object *))sym("PyFrame_GetLasti");
	api.getattr = (py_object *(*)(py_object *, const char *))
	              sym("PyObject_GetAttrString");
	api.decref = (void (*)(py_object *))sym("Py_DecRef");
	api.modules = (py_object *(*)(void))sym("PyImport_GetModuleDict");
	api.dict_get = (py_object *(*)(py_object *, const char *))
	               sym("PyDict_GetItemString");
	api.module_dict = (py_object *(*)(py_object *))sym("PyModule_GetDict");
	api.import = (py_object *(*)(const char *))sym("PyImport_ImportModule");
	api.get_alloc = (void (*)(int, struct py_alloc *))
	                sym("PyMem_GetAllocator");
	api.set_alloc = (void (*)(int, struct py_alloc *))
	                sym("PyMem_SetAllocator");
	api.at_exit = (int (*)(void (*)(void)))sym("Py_AtExit");
	api.as_long = (long (*)(py_object *))sym("PyLong_AsLong");
	/* Why these are required: without them no pair can be read or
	 * refused, and a hook that cannot refuse is worse than none. */
	if (api.tuple_item == NULL || api.utf8 == NULL ||
	    api.set_string == NULL || api.err_clear == NULL ||
	    api.permission_error == NULL || api.get_frame == NULL ||
	    api.frame_code == NULL || api.frame_back == NULL ||
	    api.getattr == NULL || api.modules == NULL ||
	    api.dict_get == NULL || api.module_dict == NULL ||
	    api.import == NULL ||
	    api.decref == NULL || api.get_alloc == NULL ||
	    api.set_alloc == NULL)
		return -1;
	return 0;
}

/* Register the hook, recording the block CPython allocates for it and
 * the allocator that made it.  1 if registered. */
static int
add_entry(void)
{
	api.get_alloc(PY_DOMAIN_RAW, &entry_alloc);
	recording = entry_alloc;
	recording.malloc = recording_malloc;
	api.set_alloc(PY_DOMAIN_RAW, &recording);
	if (api.add_hook(hook, NULL) != 0)
		entry = NULL;
	api.set_alloc(PY_DOMAIN_RAW, &entry_alloc);
	mg_guard_refusing = entry != NULL;
	return entry != NULL;
}

/* Py_AtExit's function (on_clear_hooks): the hook again, for the next
 * Py_Initialize.  The passthrough has done its one job (the entry it
 * guarded is freed), so the allocator it forwarded to is put back. */
static void
reinstall(void)
{
	struct py_alloc cur;

	if (entry != NULL)
		return;
	api.get_alloc(PY_DOMAIN_RAW, &cur);
	if (cur.malloc == passthrough_malloc)
		api.set_alloc(PY_DOMAIN_RAW, &cleared_alloc);
	(void)add_entry();
}

int
mg_guard_install(void *where)
{
	int (*initialized)(void);

	scope = where;
	initialized = (int (*)(void))sym("Py_IsInitialized");

	mode = mg_policy_guard(rules());
	if (mode == MG_GUARD_OFF || initialized == NULL || initialized() ||
	    resolve_api() != 0)
		return 0;
	return add_entry();
}

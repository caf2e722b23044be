/*
 * sarif.c - `modelgate scan --format sarif`: a SARIF 2.1.0 log that
 * GitHub code scanning accepts, built from the run's JSON file objects.
 *
 * Rules: every rule id the scanner and the policy can emit has an entry
 * in rule_docs[] below (what it means, what to do, how severe at worst);
 * the driver lists all of them, in table order, so ruleIndex values are
 * stable across runs.  A rule missing from the table still gets an entry
 * (generic text) the first time a result uses it; tests/integration/
 * test_scan_ux greps the sources for emitted rule ids and fails on any
 * rule this table lacks.
 *
 * Results: one per finding that is not info (info findings - a pinned
 * hash, a CRC torch ignores - are not something to act on; the JSON has
 * them).  A finding's offset is a byte position in the file only when the
 * finding has no member and its rule's offsets are positions
 * (rule_doc.positional): then the result has a binary region {byteOffset,
 * byteLength}.  Otherwise the offset counts from the start of an archive
 * member, of a decompressed stream or of the archive (zip.*), which the
 * scanner does not map back to the file, so the region is left out rather
 * than invented: properties.member and properties.offset say where.
 * byteLength is 1 (the byte the finding starts at) or 0 at the end of the
 * file (a truncation): the scanner records where a finding starts, not its
 * extent.
 *
 * Locations: GitHub cannot show a result whose URI names a symlink, so the
 * URI is that of the resolved file - relative to the working directory
 * (uriBaseId %SRCROOT%) when a relative path resolves inside it, else an
 * absolute file:// URI - percent-encoded as RFC 3986 requires.  Paths that
 * resolve to one file are one artifact, with results once; a hard link is
 * a path of its own (a repository holds it as a file of its own).
 *
 * Fingerprints: GitHub uses partialFingerprints.primaryLocationLineHash
 * only, and its upload action cannot compute one for a location without a
 * line; binary files have none.  So that value (and "modelgate/v1") is a
 * hash of what identifies a finding in a file: rule, global, member,
 * offset and the file's SHA-256, with ":N" counting repeats in one file.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "scan.h"

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"
#define MG_HOME "https://github.com/modelgate/modelgate"

struct rule_doc {
	const char *id;
	enum mg_verdict worst;  /* the worst verdict it reports: level and
	                           security-severity */
	const char *precision;  /* how often a result is a true positive */
	int positional;         /* offset = byte position where it lives */
	const char *brief;      /* shortDescription */
	const char *means;      /* fullDescription: what it means */
	const char *todo;       /* help: what to do */
};

#define D MG_VERDICT_DANGEROUS
#define C MG_VERDICT_UNKNOWN_CALL
#define E MG_VERDICT_ERROR
#define U MG_VERDICT_UNKNOWN
#define I MG_VERDICT_CLEAN

/* Shared advice. */
#define T_MALICIOUS "Do not load the file. No ordinary writer produces " \
	"this; if it came from a model hub or a colleague, treat it as " \
	"malicious and report it."
#define T_RESAVE "Re-download the file, or re-save it with the library " \
	"that made it. If you trust the file as it is, pin its SHA-256 " \
	"(allow) in a lockfile, or set error = audit in a policy for it."
#define T_CAP "Treat the file as suspect: legitimate models stay far " \
	"below the scanner's caps. If you trust it, pin its SHA-256 (allow)."
#define T_INFO "Nothing to do: this is information, not a verdict."

static const struct rule_doc rule_docs[] = {
	/* pickle analyser */
	{ "pickle.global.denied", D, "very-high", 1,
	  "A pickle imports a denied global",
	  "The pickle names a global on the deny-list (os.system, "
	  "builtins.eval, subprocess.Popen, a nested loader, ...). The "
	  "unpickler imports it while loading and the file can call it with "
	  "arguments of its choice: loading the file runs code.",
	  T_MALICIOUS " A denied global cannot be allowed by a policy; get the "
	  "weights in a data-only format such as safetensors." },
	{ "pickle.global.unknown", U, "high", 1,
	  "A pickle imports a global on neither list",
	  "The pickle names a global that is neither allowed nor denied, "
	  "usually a class of the project that saved the model. Rebuilding "
	  "its objects runs that class's own code (__new__, __setstate__).",
	  "If the module is yours or trusted, allow it ([globals] allow = "
	  "module:name) or enable the pack that covers it, or pin the file's "
	  "SHA-256; otherwise load only the weights (torch.load with "
	  "weights_only=True, or safetensors)." },
	{ "pickle.global.dunder", D, "very-high", 1,
	  "A pickle global names a dunder attribute or module",
	  "A global with a double-underscore part (__builtins__, __globals__, "
	  "__class__, __main__) reaches interpreter internals and is never "
	  "allowed. A model pickled from a script names its classes "
	  "__main__.Name.",
	  "If the file is your own model pickled from a script, move its "
	  "classes into an importable module and save it again, or pin it. "
	  "Otherwise: " T_MALICIOUS },
	{ "pickle.global.computed", D, "very-high", 1,
	  "A pickle imports a name computed while loading",
	  "STACK_GLOBAL is given a module or attribute name that is not a "
	  "literal string but a value built at load time, so what the "
	  "unpickler imports cannot be known beforehand.", T_MALICIOUS },
	{ "pickle.call.unknown", C, "high", 1,
	  "A pickle calls an unknown callable with arguments from the file",
	  "A callable on neither list is called (REDUCE, OBJ, INST, NEWOBJ "
	  "with arguments) with arguments the file supplies: the file "
	  "chooses code that runs at load time. The default policy denies "
	  "it (unknown_call = deny).",
	  "If the callable is trusted, allow it ([globals] allow = "
	  "module:name) or pin the file's SHA-256; otherwise do not load "
	  "the file." },
	{ "pickle.call.computed", D, "very-high", 1,
	  "A pickle calls something that is not a global",
	  "What a REDUCE or similar opcode calls is a value computed while "
	  "loading (a call's result, an attribute fetched at load time), "
	  "not a global the scanner can judge.", T_MALICIOUS },
	{ "pickle.build.setattr", D, "high", 1,
	  "BUILD sets attributes the scanner cannot follow",
	  "BUILD's slot state sets attributes named by computed values, "
	  "dunder attributes such as __class__, or too many of them, so what "
	  "the loader writes into the object is not known.", T_MALICIOUS },
	{ "pickle.build.global", D, "very-high", 1,
	  "BUILD sets state on a global itself",
	  "BUILD applies state to a class, function or module object rather "
	  "than to an instance, rewriting code or data that the rest of the "
	  "program uses.", T_MALICIOUS },
	{ "pickle.build.twice", D, "high", 1,
	  "BUILD is applied twice to one object",
	  "The loader merges both states into the object; what it becomes "
	  "cannot be followed, and no pickler writes this.", T_MALICIOUS },
	{ "pickle.mutate.global", D, "very-high", 1,
	  "A pickle modifies a global it imported",
	  "An opcode such as SETITEM or APPEND changes a module, class or "
	  "function object the pickle imported, altering code that other "
	  "parts of the program run.", T_MALICIOUS },
	{ "pickle.ext", D, "high", 1,
	  "A pickle loads a callable from the copyreg extension registry",
	  "EXT1, EXT2 or EXT4 fetch an object by number from copyreg's "
	  "extension registry: what it is depends on the loading process, "
	  "not on the file.", T_MALICIOUS },
	{ "pickle.frame", D, "very-high", 1,
	  "A pickle's FRAME structure is inconsistent",
	  "An opcode straddles the end of its FRAME, a frame opens inside "
	  "another or runs past the end. The C and Python unpicklers can "
	  "then read different bytes: a parser differential that hides a "
	  "payload from scanners.", T_MALICIOUS },
	{ "pickle.buffer", E, "high", 1,
	  "A pickle needs out-of-band buffers",
	  "NEXT_BUFFER (protocol 5) asks for buffers that a load from a file "
	  "does not supply; the loader fails, and what the stream means "
	  "cannot be told.", T_RESAVE },
	{ "pickle.malformed", E, "high", 1,
	  "A pickle cannot be parsed the way the loader parses it",
	  "The stream is empty or truncated, has an invalid opcode or "
	  "argument, or a format reader rejects an object in it. What "
	  "cannot be followed is never reported clean.", T_RESAVE },
	{ "pickle.limit", E, "high", 1,
	  "A pickle goes beyond a limit of the scanner",
	  "Stack depth, memo size, name length, the number of globals or of "
	  "stacked pickles, or nesting exceeds the scanner's caps; the rest "
	  "was not analysed.", T_CAP },
	/* zip and torch containers */
	{ "zip.crc", I, "high", 0,
	  "A zip member's CRC-32 does not match (information)",
	  "torch's reader never checks CRC-32 and torch.save can write 0, so "
	  "members are scanned as stored.", T_INFO },
	{ "zip.directory", E, "high", 0,
	  "The zip central directory is damaged or inconsistent",
	  "The central directory lies outside the file, has a malformed "
	  "entry or disagrees with the end record: the members cannot all "
	  "be checked.", T_RESAVE },
	{ "zip.duplicate", D, "very-high", 0,
	  "Two zip members share one name",
	  "Loaders disagree on which copy they read, a way to show scanners "
	  "one member and the loader another; every copy was scanned.",
	  T_MALICIOUS },
	{ "zip.encrypted", E, "high", 0,
	  "A zip member is encrypted",
	  "Its content cannot be checked.",
	  "Get an unencrypted copy, or pin the file if you trust it." },
	{ "zip.flags", U, "medium", 0,
	  "A zip member has unusual general purpose flags",
	  "Zip readers disagree on how to read such members.",
	  "Re-save the archive with a standard writer (torch.save, zipfile) "
	  "if it is yours; otherwise find out who made it." },
	{ "zip.limit", E, "high", 0,
	  "A zip archive goes beyond the member or size cap",
	  "It has more members, or inflates to more bytes, than the scanner "
	  "examines; the rest was not scanned (a zip bomb?).", T_CAP },
	{ "zip.local_header", D, "high", 0,
	  "A zip local header disagrees with the central directory",
	  "The local header is missing, or its name, method or encryption "
	  "flag differ from the central directory's: readers that trust one "
	  "or the other see different content.", T_MALICIOUS },
	{ "zip.prepended", U, "medium", 0,
	  "Bytes precede the zip archive",
	  "Python's zipfile, and torch, open such a file anyway; the leading "
	  "bytes were scanned too, as a polyglot can hide a pickle there.",
	  "Find out why the file has leading bytes; re-save it with torch.save "
	  "if it is yours." },
	{ "zip.size", E, "high", 0,
	  "A zip member inflates to another size than recorded",
	  "Loaders stop at the recorded size or refuse the member, so they "
	  "would not read the bytes that were scanned.", T_RESAVE },
	{ "zip.unreadable", E, "high", 0,
	  "A zip member cannot be read",
	  "The archive cannot be opened to decompress a member, its method "
	  "is not supported, or its data is damaged or lies outside the "
	  "archive. An unreadable member is never clean.", T_RESAVE },
	{ "torchscript.code", U, "high", 0,
	  "A TorchScript archive carries code",
	  "torch.jit.load compiles the archive's code and it runs when the "
	  "module is called; the scanner does not judge TorchScript code.",
	  "Load TorchScript only from sources you trust and pin the file once "
	  "reviewed, or export the weights as safetensors." },
	{ "torch.storage", E, "high", 1,
	  "A legacy torch storage has a type torch does not know",
	  "Its bytes in a pre-1.6 torch.save file cannot be accounted for.",
	  T_RESAVE },
	{ "torch.tar", E, "high", 1,
	  "A legacy torch tar checkpoint does not read as torch.load reads it",
	  "torch.load would read bytes of this member that the scanner cannot "
	  "account for.", T_RESAVE },
	{ "torch.trailing", U, "medium", 1,
	  "Bytes follow the last storage of a legacy torch file",
	  "torch.load ignores them; they are a place to hide data.",
	  "Re-save the model with a current torch.save." },
	{ "torch.truncated", E, "high", 1,
	  "A legacy torch file ends inside its storages",
	  "The file is shorter than its storages need.", T_RESAVE },
	{ "tar.header", E, "high", 1,
	  "A tar header Python's tarfile reads in a way the scanner cannot follow",
	  "A GNU sparse member, a negative pax size or a header field out of "
	  "range: the loader's reading of the members is not certain.",
	  T_RESAVE },
	{ "tar.link", E, "high", 1,
	  "A torch tar member is a link",
	  "torch.load of a legacy tar would read another member's or another "
	  "file's bytes under that name.", T_RESAVE },
	{ "tar.limit", E, "high", 1,
	  "A tar archive has more members than the member cap",
	  "The members past the cap were not examined.", T_CAP },
	{ "tar.truncated", E, "high", 1,
	  "A tar member runs past the end of the archive",
	  "The archive is truncated or its header lies.", T_RESAVE },
	/* numpy, joblib, compression */
	{ "npy.header", E, "high", 1,
	  "An .npy header does not read as numpy reads it",
	  "The magic, version, header length or header dict is not what "
	  "numpy's parser accepts, so what np.load does cannot be told.",
	  T_RESAVE },
	{ "npy.trailing", U, "medium", 1,
	  "Bytes follow the array data of an .npy",
	  "np.load ignores them; they are a place to hide data.",
	  "Re-save the array with numpy.save." },
	{ "npy.truncated", E, "high", 1,
	  "An .npy holds less data than its shape needs",
	  "The file is shorter than shape x itemsize.", T_RESAVE },
	{ "joblib.array", E, "high", 1,
	  "A joblib array wrapper does not add up",
	  "joblib.load would read bytes here that the scanner cannot account "
	  "for.", T_RESAVE },
	{ "joblib.plain", D, "high", 1,
	  "Read with pickle.load, the stream is dangerous beyond the kept "
	  "findings",
	  "joblib.load and pickle.load read this stream differently; read "
	  "the plain pickle.load way it has more dangerous findings than "
	  "were kept.", T_MALICIOUS },
	{ "joblib.sidefile", U, "high", 1,
	  "An old joblib file loads an array from a side file",
	  "joblib before 0.10 stores arrays in side files and reads them with "
	  "np.load(allow_pickle=True): a side file can carry a pickle.",
	  "Scan the side files too (they sit next to the file), or re-save "
	  "the object with a current joblib." },
	{ "joblib.sidefile.escape", D, "very-high", 1,
	  "An old joblib file loads a side file outside its directory",
	  "The side file name is absolute, climbs with '..' or holds a NUL: "
	  "loading reads, with allow_pickle=True, a file the model does not "
	  "ship.", T_MALICIOUS },
	{ "compress.corrupt", E, "high", 1,
	  "A compressed stream is corrupt",
	  "The loader fails here, possibly after running what came before.",
	  T_RESAVE },
	{ "compress.limit", E, "high", 1,
	  "A compressed stream inflates beyond the cap",
	  "A decompression bomb, or a model too big for the scanner's cap "
	  "(4 GiB); the rest was not scanned.", T_CAP },
	{ "compress.trailing", E, "high", 1,
	  "Bytes follow the end of a compressed stream",
	  "The loader fails there, possibly after running what came before.",
	  T_RESAVE },
	{ "compress.truncated", E, "high", 1,
	  "A compressed stream is truncated",
	  "It ends before its end-of-stream marker; the loader fails, "
	  "possibly after running what came before.", T_RESAVE },
	/* keras, HDF5, GGUF, safetensors */
	{ "keras.lambda", D, "very-high", 1,
	  "A Keras Lambda layer carries Python bytecode",
	  "A Lambda layer or __lambda__ object stores marshalled Python "
	  "code that Keras runs when the model is loaded or called.",
	  "Do not load the model unless you wrote it; rebuild the layer as a "
	  "registered custom layer." },
	{ "keras.gadget", D, "very-high", 1,
	  "A Keras config reaches a function outside the model API",
	  "The config names a function outside Keras, a Keras utility that "
	  "touches files, the network or processes (keras.utils.get_file, "
	  "...), or a denied Python builtin; deserialising calls it.",
	  T_MALICIOUS },
	{ "keras.custom_object", D, "high", 1,
	  "A Keras config names a class or function from outside Keras",
	  "Loading imports that module and runs its code; it is dangerous "
	  "when the module is denied, unknown otherwise.",
	  "If the module is yours, review it and pin the file; otherwise do "
	  "not load the model." },
	{ "keras.file_reference", U, "high", 1,
	  "A Keras layer reads a file named in its config",
	  "A preprocessing layer loads a vocabulary from a path the config "
	  "chooses.", "Check that the path is one the model ships." },
	{ "keras.external_code", D, "very-high", 1,
	  "A Keras config loads external code",
	  "A TFSMLayer runs a TensorFlow SavedModel from a path named in the "
	  "config.", T_MALICIOUS },
	{ "keras.embedded_module", E, "high", 1,
	  "An embedded torch module in a Keras config is not valid base64",
	  "What torch.load would read from a TorchModuleWrapper is unknown.",
	  T_RESAVE },
	{ "keras.depth", E, "high", 1,
	  "A Keras config nests deeper than the scanner follows",
	  "The part past the cap was not analysed.", T_CAP },
	{ "keras.config.invalid", E, "high", 1,
	  "A Keras config is not valid JSON",
	  "What Keras would deserialise cannot be told.", T_RESAVE },
	{ "hdf5.invalid", E, "high", 0,
	  "Not an HDF5 file libhdf5 can open",
	  "The file is empty, truncated or corrupt.", T_RESAVE },
	{ "hdf5.attr.invalid", E, "high", 0,
	  "An HDF5 attribute Keras or PyTables reads is malformed",
	  "model_config or training_config cannot be read as Keras reads "
	  "it, or a string attribute cannot be read as PyTables reads it "
	  "before it unpickles it.", T_RESAVE },
	{ "hdf5.value.invalid", E, "high", 0,
	  "A value PyTables would unpickle cannot be judged",
	  "An object array's rows cannot be read as PyTables reads them, the "
	  "file cannot be walked object by object, or it holds more than 64 "
	  "MiB of such values.", T_RESAVE },
	{ "hdf5.crashed", E, "high", 0,
	  "libhdf5 crashed or stopped reading the file",
	  "The HDF5 reader runs in a child process; it crashed, timed out or "
	  "failed on this file: malformed or hostile HDF5.", T_RESAVE },
	{ "hdf5.unavailable", E, "high", 0,
	  "libhdf5 could not be loaded to read an HDF5 file",
	  "The HDF5 reader loads libhdf5 on the first HDF5 file; the library "
	  "is missing or unusable, so what the file holds cannot be told.",
	  "Install Debian's libhdf5 (scripts/install-deps does), then scan "
	  "again." },
	{ "hdf5.no_keras_config", I, "high", 0,
	  "An HDF5 file without a Keras config (information)",
	  "Its datasets and attributes are data, loaded without running "
	  "code.", T_INFO },
	{ "hdf5.user_block", I, "very-high", 0,
	  "The file is also an HDF5 file after a user block",
	  "libhdf5 looks for its superblock at 0 and at every power of two "
	  "from 512, so h5py and PyTables open this file whatever its first "
	  "bytes are. It was read both as what its first bytes say and as "
	  "HDF5.", T_INFO },
	{ "hdf5.pytables_values", I, "high", 0,
	  "An HDF5 file whose PyTables pickles were judged (information)",
	  "No Keras config; the byte-string attributes and object-array rows "
	  "PyTables hands pickle.loads were each judged as the pickle they "
	  "are.", T_INFO },
	{ "gguf.invalid", E, "high", 1,
	  "A GGUF file is invalid",
	  "Its header or metadata does not read as GGUF loaders read it.",
	  T_RESAVE },
	{ "gguf.chat_template", D, "medium", 1,
	  "A GGUF chat template reaches Python internals",
	  "The Jinja chat template uses a construction that leads to Python "
	  "internals (the server-side template injection of "
	  "CVE-2024-34359). The check is a pattern analysis, not a Jinja "
	  "parser.",
	  "Do not render the template: remove it from the metadata, or render "
	  "templates only in a sandboxed Jinja environment." },
	{ "safetensors.invalid", E, "high", 1,
	  "A safetensors file is invalid",
	  "Its header is not valid JSON, or its tensors' offsets, shapes or "
	  "types do not add up.", T_RESAVE },
	/* the file as a whole */
	{ "format.mismatch", D, "high", 0,
	  "The content is another format than the file name says",
	  "The content is scanned as what it is. Dangerous when an "
	  "executable format (a pickle) hides under a data-only name such as "
	  ".safetensors; unknown otherwise.",
	  "Give the file the name of what it is; treat an executable format "
	  "disguised as data as malicious." },
	{ "format.polyglot", D, "very-high", 1,
	  "The file is two formats at once",
	  "It reads as its format and also as a pickle that imports globals "
	  "(torch.load and np.load fall back to pickle.load) or as a zip "
	  "archive.", T_MALICIOUS },
	{ "format.unknown", E, "high", 0,
	  "The content is not a format modelgate reads",
	  "A loader may still execute it, so it is never reported clean.",
	  "If it is not a model (a fastText .bin, say), pin it (allow) or set "
	  "error = audit in a policy for it." },
	{ "format.inert", I, "very-high", 0,
	  "The file cannot run code: the pickle loader fails on it first",
	  "Its content is no format modelgate reads (or a pickle cut short), "
	  "and the pickle loader, which torch.load and np.load fall back to, "
	  "must fail on it before it resolves a global or calls anything: "
	  "a tokenizer protobuf, raw array data, an image.", T_INFO },
	{ "format.unsupported", E, "high", 0,
	  "The container format is not read",
	  "7z archives are not read; what they carry cannot be checked.",
	  "Unpack the archive and scan its files." },
	{ "format.dbm", E, "high", 0,
	  "A shelve/dbm database could not be read as its loader reads it",
	  "shelve unpickles every value of a Berkeley DB, GDBM or dbm.dumb "
	  "database.  modelgate reads each value with the loader's own "
	  "library (in a confined child) or through the dbm.dumb index; "
	  "this database could not be read to the end (a library error, a "
	  "crash or limit of the reader, an index line not read the way "
	  "literal_eval reads it, or a database inside a container), so "
	  "what it holds is not known.",
	  "Rebuild the database with shelve (or export its values) and scan "
	  "again; pin it if you trust it." },
	{ "container.depth", E, "high", 0,
	  "Containers nest deeper than the depth cap",
	  "Archives inside archives (or compressed streams) go deeper than "
	  "the scanner follows.", T_CAP },
	/* policy: pins and registry */
	{ "pin.trusted", I, "very-high", 0,
	  "SHA-256 pinned as trusted (information)",
	  "A lockfile pins this content as allowed; it was not scanned.",
	  T_INFO },
	{ "pin.denied", D, "very-high", 0,
	  "SHA-256 pinned as denied",
	  "A lockfile names this content as denied, wherever it lives.",
	  "Remove the file; if the pin is wrong, change the lockfile line." },
	{ "pin.tampered", D, "very-high", 0,
	  "A pinned path holds other content",
	  "The lockfile pins this path to another SHA-256: the file was "
	  "modified or replaced.",
	  "Find out who changed the file; restore it, or update the pin with "
	  "modelgate pin once the new content is reviewed." },
	{ "pin.required", D, "very-high", 0,
	  "The policy requires a pin and the file has none",
	  "require_pin = yes, and the file's SHA-256 is pinned allow in no "
	  "lockfile (or the lockfile cannot be used).",
	  "Review the file, then add it to a lockfile (modelgate pin FILE)." },
	{ "pin.lockfile", E, "very-high", 0,
	  "A lockfile cannot be used",
	  "A lockfile the policy names is missing, unreadable or malformed; "
	  "no pin in it is trusted.",
	  "Fix the lockfile (modelgate policy check names the line)." },
	{ "registry.denied", D, "very-high", 0,
	  "The file comes from a denied repository",
	  "Its Hugging Face cache path names a repository that deny_repos "
	  "matches.", "Remove the model, or change deny_repos." },
	{ "registry.lookalike", D, "medium", 0,
	  "The file comes from a repository that imitates an allowed one",
	  "The repository name is a near miss of an allow_repos pattern (a "
	  "homoglyph or a small edit): typosquatting.",
	  "Check the repository's name; download the model from the real "
	  "one." },
	{ "registry.unlisted", U, "high", 0,
	  "The file comes from a repository not in allow_repos",
	  "allow_repos is set and matches no part of this Hugging Face cache "
	  "path.", "Add the repository to allow_repos once reviewed." },
	/* the command itself */
	{ "io.unreadable", E, "very-high", 0,
	  "The path could not be read",
	  "It could not be opened, listed or read; nothing was decided about "
	  "it, and the scan exits 2.",
	  "Check the path and its permissions, and scan it again." },
	{ "scan.failed", E, "very-high", 0,
	  "The scan of the file could not finish",
	  "The scanner ran out of memory or failed; the file is never "
	  "reported clean, and the scan exits 2 unless something else is "
	  "blocked.", "Scan the file again with more memory." },
	{ "nomem", E, "very-high", 1,
	  "The scanner ran out of memory on part of the file",
	  "The part of the file being read was not analysed.",
	  "Scan the file again with more memory." },
};

#undef D
#undef C
#undef E
#undef U
#undef I

/* For a rule the table lacks (a newer scanner than this table). */
static const struct rule_doc generic_doc = {
	NULL, MG_VERDICT_ERROR, "medium", 0,
	"A finding of modelgate's scanner",
	"This version of modelgate has no description of this rule; the "
	"result's message says what was found.",
	"Read the message, and act on the file's verdict and action: a file "
	"that is not allowed should not be loaded until it is understood.",
};

struct sarif {
	const struct mg_scan_run *run;
	json_t *rules;       /* tool.driver.rules */
	json_t *rule_index;  /* id -> index in rules */
	json_t *artifacts;
	json_t *art_index;   /* URI -> index in artifacts */
	json_t *results;
	json_t *notes;       /* invocations[0].toolExecutionNotifications */
	char cwd[PATH_MAX];  /* "" when unknown */
	int bad;             /* something could not be built */
};

/* --- rules ----------------------------------------------------------------- */

static const struct rule_doc *
doc_of(const char *id)
{
	size_t i;

	for (i = 0; i < sizeof(rule_docs) / sizeof(rule_docs[0]); i++)
		if (strcmp(rule_docs[i].id, id) == 0)
			return &rule_docs[i];
	return NULL;
}

static const char *
level_of(enum mg_verdict v)
{
	if (v == MG_VERDICT_CLEAN)
		return "note";
	return v == MG_VERDICT_UNKNOWN ? "warning" : "error";
}

/* GitHub's scale: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9
 * low, 0.0 none (an info-only rule raises no security issue). */
static const char *
security_severity(enum mg_verdict v)
{
	switch (v) {
	case MG_VERDICT_DANGEROUS: return "9.8";
	case MG_VERDICT_UNKNOWN_CALL: return "8.0";
	case MG_VERDICT_ERROR: return "7.0";
	case MG_VERDICT_UNKNOWN: return "5.0";
	case MG_VERDICT_CLEAN: return "0.0";
	}
	return "7.0";
}

/* "pickle.global.denied" -> "PickleGlobalDenied", into @out[@len]. */
static void
rule_name(const char *id, char *out, size_t len)
{
	size_t n = 0;
	int up = 1;

	for (; *id != '\0' && n + 1 < len; id++) {
		if (*id == '.' || *id == '_' || *id == '-') {
			up = 1;
			continue;
		}
		out[n++] = up && *id >= 'a' && *id <= 'z' ? (char)(*id - 32) : *id;
		up = 0;
	}
	out[n] = '\0';
}

static json_t *
rule_json(const struct rule_doc *d, const char *id)
{
	char name[128], text[2048], md[2560];

	rule_name(id, name, sizeof(name));
	snprintf(text, sizeof(text), "%s\n\nWhat to do: %s", d->means, d->todo);
	snprintf(md, sizeof(md), "**%s**\n\n%s\n\n**What to do:** %s\n\n"
	         "Rule `%s` of modelgate %s; `modelgate scan --format json` "
	         "shows every finding of a file.", d->brief, d->means, d->todo,
	         id, MG_VERSION);
	return json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:s, s:s}, s:{s:s},"
	                 " s:{s:[s], s:s, s:s}}",
	                 "id", id, "name", name,
	                 "shortDescription", "text", d->brief,
	                 "fullDescription", "text", d->means,
	                 "help", "text", text, "markdown", md,
	                 "defaultConfiguration", "level", level_of(d->worst),
	                 "properties", "tags", "security",
	                 "security-severity", security_severity(d->worst),
	                 "precision", d->precision);
}

/* Every rule of the table, in table order: stable indexes. */
static void
add_table_rules(struct sarif *sx)
{
	size_t i;

	for (i = 0; i < sizeof(rule_docs) / sizeof(rule_docs[0]); i++) {
		sx->bad |= json_array_append_new(sx->rules,
		    rule_json(&rule_docs[i], rule_docs[i].id));
		sx->bad |= json_object_set_new(sx->rule_index, rule_docs[i].id,
		                               json_integer((json_int_t)i));
	}
}

/* The index of rule @id in the driver's rules, adding a generic entry for
 * an id the table lacks. */
static json_int_t
rule_index(struct sarif *sx, const char *id)
{
	json_t *ix = json_object_get(sx->rule_index, id);
	json_int_t n;

	if (ix != NULL)
		return json_integer_value(ix);
	n = (json_int_t)json_array_size(sx->rules);
	sx->bad |= json_array_append_new(sx->rules, rule_json(&generic_doc, id));
	sx->bad |= json_object_set_new(sx->rule_index, id, json_integer(n));
	return n;
}

/* --- locations --------------------------------------------------------------- */

/* RFC 3986: unreserved, sub-delims and '@' stand for themselves in a
 * path; ':' is encoded too (it may not appear in the first segment of a
 * relative reference), and so is everything else, byte by byte. */
static int
uri_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=@/", c) != NULL;
}

/* @prefix + @path percent-encoded; NULL when out of memory. */
static char *
uri_encode(const char *prefix, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(prefix);
	char *out = malloc(n + 3 * strlen(path) + 1);
	const unsigned char *p;

	if (out == NULL)
		return NULL;
	memcpy(out, prefix, n);
	for (p = (const unsigned char *)path; *p != '\0'; p++) {
		if (uri_plain(*p)) {
			out[n++] = (char)*p;
			continue;
		}
		out[n++] = '%';
		out[n++] = hex[*p >> 4];
		out[n++] = hex[*p & 15];
	}
	out[n] = '\0';
	return out;
}

/* @path without empty and "." segments (a path that could not be
 * resolved), into a new string. */
static char *
path_tidy(const char *path)
{
	char *out = malloc(strlen(path) + 2);
	const char *seg = path, *end;
	size_t n = 0, len;

	if (out == NULL)
		return NULL;
	if (path[0] == '/')
		out[n++] = '/';
	while (*seg != '\0') {
		end = strchr(seg, '/');
		len = end != NULL ? (size_t)(end - seg) : strlen(seg);
		if (len > 0 && !(len == 1 && seg[0] == '.')) {
			if (n > 0 && out[n - 1] != '/')
				out[n++] = '/';
			memcpy(out + n, seg, len);
			n += len;
		}
		seg += len + (end != NULL);
	}
	out[n] = '\0';
	return out;
}

/*
 * The URI of @path (see the top comment): *@relative is set when it is
 * relative to the working directory.  NULL when out of memory.
 */
static char *
path_uri(const struct sarif *sx, const char *path, int *relative)
{
	char *real = realpath(path, NULL), *uri = NULL;
	const char *rel = NULL;
	size_t n = strlen(sx->cwd);

	if (real == NULL) {
		real = path_tidy(path);
		if (real == NULL)
			return NULL;
		if (real[0] != '/')
			rel = real;
	} else if (path[0] != '/' && n > 0) {
		if (strcmp(sx->cwd, "/") == 0)
			rel = real + 1;
		else if (strncmp(real, sx->cwd, n) == 0 && real[n] == '/')
			rel = real + n + 1;
	}
	*relative = rel != NULL;
	/* A relative path that cannot be resolved against an unknown working
	 * directory stays relative: it is the best there is. */
	uri = rel != NULL ? uri_encode("", rel) : uri_encode("file://", real);
	free(real);
	return uri;
}

/* An artifactLocation: @uri (NULL: standard input, which has none) and,
 * when @index >= 0, the artifact's index. */
static json_t *
artifact_location(const char *uri, int relative, json_int_t index)
{
	json_t *l = json_object();
	int bad = l == NULL;

	if (!bad && uri != NULL)
		bad |= json_object_set_new(l, "uri", json_string(uri));
	if (!bad && uri != NULL && relative)
		bad |= json_object_set_new(l, "uriBaseId", json_string("%SRCROOT%"));
	if (!bad && index >= 0)
		bad |= json_object_set_new(l, "index", json_integer(index));
	if (!bad && uri == NULL)
		bad |= json_object_set_new(l, "description",
		    json_pack("{s:s}", "text", "standard input"));
	if (bad) {
		json_decref(l);
		return NULL;
	}
	return l;
}

/* The artifact of entry @e: *@fresh when this is its first path. */
static json_int_t
artifact_of(struct sarif *sx, const struct mg_scan_entry *e, char **uri,
            int *relative, int *fresh)
{
	const char *key, *sha;
	json_t *ix, *a;
	json_int_t n;

	*uri = NULL, *relative = 0, *fresh = 0;
	if (!e->is_stdin && (*uri = path_uri(sx, e->path, relative)) == NULL) {
		sx->bad = 1;
		return -1;
	}
	key = *uri != NULL ? *uri : "-";
	if ((ix = json_object_get(sx->art_index, key)) != NULL)
		return json_integer_value(ix);
	*fresh = 1;
	n = (json_int_t)json_array_size(sx->artifacts);
	a = *uri != NULL ?
	    json_pack("{s:o, s:[s]}", "location",
	              artifact_location(*uri, *relative, -1), "roles",
	              "analysisTarget") :
	    json_pack("{s:{s:s}, s:[s]}", "description", "text",
	              "standard input ('-')", "roles", "analysisTarget");
	sha = json_string_value(json_object_get(e->obj, "sha256"));
	if (a != NULL && e->state != MG_ENTRY_UNREADABLE) {
		sx->bad |= json_object_set_new(a, "length",
		                               json_integer((json_int_t)e->size));
		if (sha != NULL)
			sx->bad |= json_object_set_new(a, "hashes",
			    json_pack("{s:s}", "sha-256", sha));
	}
	sx->bad |= json_array_append_new(sx->artifacts, a);
	sx->bad |= json_object_set_new(sx->art_index, key, json_integer(n));
	return n;
}

/* --- results ------------------------------------------------------------------ */

static const char *
level_of_severity(const char *sev)
{
	if (strcmp(sev, "critical") == 0 || strcmp(sev, "high") == 0)
		return "error";
	return strcmp(sev, "medium") == 0 ? "warning" : "note";
}

static void
digest_str(EVP_MD_CTX *ctx, const char *s)
{
	/* the NUL too: "a" + "bc" and "ab" + "c" differ */
	if (s == NULL)
		s = "";
	(void)EVP_DigestUpdate(ctx, s, strlen(s) + 1);
}

/* The first 16 bytes of SHA-256(rule, global, member, offset, sha256), in
 * hex, into @out[33]; "" if OpenSSL fails. */
static void
fingerprint(char out[33], const char *rule, const char *global,
            const char *member, json_int_t off, const char *sha)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char offs[32];
	unsigned i, mdlen = 0;

	out[0] = '\0';
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	snprintf(offs, sizeof(offs), "%lld", (long long)off);
	digest_str(ctx, rule);
	digest_str(ctx, global);
	digest_str(ctx, member);
	digest_str(ctx, offs);
	digest_str(ctx, sha);
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 16)
		goto out;
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
out:
	EVP_MD_CTX_free(ctx);
}

/* partialFingerprints of a finding, ":N" for its N-th repeat in the file
 * (@seen counts them). */
static json_t *
fingerprints(json_t *seen, const char *rule, const char *global,
             const char *member, json_int_t off, const char *sha)
{
	char fp[33], val[48];
	json_int_t k;

	fingerprint(fp, rule, global, member, off, sha);
	k = json_integer_value(json_object_get(seen, fp)) + 1;
	if (json_object_set_new(seen, fp, json_integer(k)) != 0)
		return NULL;
	snprintf(val, sizeof(val), "%s:%lld", fp, (long long)k);
	return json_pack("{s:s, s:s}", "modelgate/v1", val,
	                 "primaryLocationLineHash", val);
}

/* The physical location of finding @f of entry @e (see the top comment
 * for when there is a region). */
static json_t *
physical_location(const struct mg_scan_entry *e, json_t *f,
                  const struct rule_doc *d, json_t *artloc)
{
	json_int_t off = json_integer_value(json_object_get(f, "offset"));
	json_t *loc = json_pack("{s:o}", "artifactLocation", artloc);

	if (loc == NULL || !d->positional ||
	    json_string_value(json_object_get(f, "member")) != NULL ||
	    e->state == MG_ENTRY_UNREADABLE || off < 0 ||
	    (uint64_t)off > e->size)
		return loc;
	if (json_object_set_new(loc, "region", json_pack("{s:I, s:I}",
	    "byteOffset", off, "byteLength",
	    (json_int_t)((uint64_t)off < e->size ? 1 : 0))) != 0) {
		json_decref(loc);
		return NULL;
	}
	return loc;
}

/* The message of finding @f, with its member as the denied line says it. */
static char *
result_message(json_t *f)
{
	const char *msg = json_string_value(json_object_get(f, "message"));
	const char *m = json_string_value(json_object_get(f, "member"));
	size_t n = strlen(msg ? msg : "") + (m ? strlen(m) : 0) + 8;
	char *out = malloc(n);

	if (out != NULL)
		snprintf(out, n, "%s%s%s%s", msg ? msg : "", m ? " (in " : "",
		         m ? m : "", m ? ")" : "");
	return out;
}

/* @o without its null members (a property bag says what it has). */
static json_t *
drop_nulls(json_t *o)
{
	const char *k;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(o, tmp, k, v)
		if (json_is_null(v))
			json_object_del(o, k);
	return o;
}

/* One result for finding @f of entry @e (artifact @art at @uri). */
static json_t *
result_json(struct sarif *sx, const struct mg_scan_entry *e, json_t *f,
            json_t *seen, const char *uri, int relative, json_int_t art)
{
	const char *rule = json_string_value(json_object_get(f, "rule"));
	const char *sev = json_string_value(json_object_get(f, "severity"));
	const char *global = json_string_value(json_object_get(f, "global"));
	const char *member = json_string_value(json_object_get(f, "member"));
	const char *sha = json_string_value(json_object_get(e->obj, "sha256"));
	json_int_t off = json_integer_value(json_object_get(f, "offset"));
	const struct rule_doc *d = doc_of(rule);
	char *msg = result_message(f);
	json_t *r = NULL, *props;

	if (msg == NULL)
		return NULL;
	/* member and global come from e->obj, already escaped. */
	props = json_pack("{s:s, s:s, s:s, s:o, s:I, s:s?, s:s?, s:s?, s:o}",
	    "severity", sev, "verdict",
	    json_string_value(json_object_get(e->obj, "verdict")), "action",
	    json_string_value(json_object_get(e->obj, "action")), "path",
	    mg_scanout_string(e->path), "offset", off, "member", member,
	    "global", global, "sha256", sha, "same_as",
	    mg_scanout_string(e->same_as >= 0 ?
	                      sx->run->v[e->same_as].path : NULL));
	r = json_pack("{s:s, s:I, s:s, s:{s:s}, s:[o], s:o, s:o}",
	    "ruleId", rule, "ruleIndex", rule_index(sx, rule),
	    "level", level_of_severity(sev), "message", "text", msg,
	    "locations", json_pack("{s:o}", "physicalLocation",
	        physical_location(e, f, d ? d : &generic_doc,
	                          artifact_location(uri, relative, art))),
	    "partialFingerprints",
	    fingerprints(seen, rule, global, member, off, sha),
	    "properties", drop_nulls(props));
	free(msg);
	return r;
}

/* Why entry @e could not be read: its io.unreadable finding's message. */
static const char *
unreadable_why(const struct mg_scan_entry *e)
{
	json_t *f = json_array_get(json_object_get(e->obj, "findings"), 0);
	const char *m = json_string_value(json_object_get(f, "message"));

	return m != NULL ? m : "cannot read the file";
}

/* The results of entry @e, unless its file was reported under this URI. */
static void
add_entry(struct sarif *sx, const struct mg_scan_entry *e)
{
	json_t *f, *seen;
	json_int_t art;
	char *uri, *path;
	int relative, fresh;
	size_t i;

	if (e->obj == NULL) {
		sx->bad = 1;
		return;
	}
	art = artifact_of(sx, e, &uri, &relative, &fresh);
	if (fresh && (seen = json_object()) != NULL) {
		json_array_foreach(json_object_get(e->obj, "findings"), i, f) {
			if (strcmp(json_string_value(json_object_get(f,
			    "severity")), "info") == 0)
				continue;
			sx->bad |= json_array_append_new(sx->results,
			    result_json(sx, e, f, seen, uri, relative, art));
		}
		json_decref(seen);
	} else if (fresh) {
		sx->bad = 1;
	}
	if (e->state == MG_ENTRY_UNREADABLE) {
		path = mg_scanout_escape(e->path);
		sx->bad |= path == NULL || json_array_append_new(sx->notes,
		    json_pack("{s:s, s:{s:s++}}", "level", "error", "message",
		              "text", path, ": ", unreadable_why(e)));
		free(path);
	}
	free(uri);
}

/* --- the log ---------------------------------------------------------------------- */

static json_t *
driver_json(struct sarif *sx)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}",
	                 "name", "modelgate", "fullName", "modelgate " MG_VERSION,
	                 "version", MG_VERSION, "semanticVersion", MG_VERSION,
	                 "informationUri", MG_HOME, "rules", sx->rules);
}

static json_t *
invocation_json(struct sarif *sx, int status)
{
	json_t *inv = json_pack("{s:b, s:i, s:O}", "executionSuccessful",
	                        sx->run->nunreadable == 0 && !sx->run->failed,
	                        "exitCode", status,
	                        "toolExecutionNotifications", sx->notes);
	char *wd;

	if (inv == NULL || sx->cwd[0] == '\0')
		return inv;
	wd = uri_encode("file://", sx->cwd);
	if (wd == NULL || json_object_set_new(inv, "workingDirectory",
	    json_pack("{s:s+}", "uri", wd, strcmp(sx->cwd, "/") ? "/" : "")))
		sx->bad = 1;
	free(wd);
	return inv;
}

static json_t *
run_json(struct sarif *sx, int status)
{
	json_t *run = json_pack("{s:{s:o}, s:O, s:O, s:[o]}",
	                        "tool", "driver", driver_json(sx),
	                        "artifacts", sx->artifacts,
	                        "results", sx->results,
	                        "invocations", invocation_json(sx, status));
	char *wd;

	if (run == NULL || sx->cwd[0] == '\0')
		return run;
	/* Where %SRCROOT% is: the relative URIs resolve against it. */
	wd = uri_encode("file://", sx->cwd);
	if (wd == NULL || json_object_set_new(run, "originalUriBaseIds",
	    json_pack("{s:{s:s+}}", "%SRCROOT%", "uri", wd,
	              strcmp(sx->cwd, "/") ? "/" : "")))
		sx->bad = 1;
	free(wd);
	return run;
}

int
mg_sarif_print(const struct mg_scan_run *run, int status)
{
	struct sarif sx;
	json_t *doc = NULL;
	size_t i;
	int rc = -1;

	memset(&sx, 0, sizeof(sx));
	sx.run = run;
	if (getcwd(sx.cwd, sizeof(sx.cwd)) == NULL)
		sx.cwd[0] = '\0';
	sx.rules = json_array();
	sx.rule_index = json_object();
	sx.artifacts = json_array();
	sx.art_index = json_object();
	sx.results = json_array();
	sx.notes = json_array();
	if (!sx.rules || !sx.rule_index || !sx.artifacts || !sx.art_index ||
	    !sx.results || !sx.notes)
		goto out;
	add_table_rules(&sx);
	for (i = 0; i < run->n && !sx.bad; i++)
		add_entry(&sx, &run->v[i]);
	/* Why the rules last: results may have added generic entries. */
	doc = json_pack("{s:s, s:s, s:[o]}", "$schema", SARIF_SCHEMA,
	                "version", "2.1.0", "runs", run_json(&sx, status));
	if (doc != NULL && !sx.bad && mg_scanout_dump(doc, stdout) == 0)
		rc = 0;
out:
	json_decref(doc);
	json_decref(sx.rules);
	json_decref(sx.rule_index);
	json_decref(sx.artifacts);
	json_decref(sx.art_index);
	json_decref(sx.results);
	json_decref(sx.notes);
	return rc;
}

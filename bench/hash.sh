#!/bin/bash
# SHA-256 speed: modelgate's hashing of a real (random, not sparse) file
# against OpenSSL's own single-core `openssl dgst -sha256` and coreutils'
# sha256sum on the same file in the same run (ratio = openssl time / ours;
# >= 0.9 is the goal), the hash cache's lookups, and (hash_open.py) what a
# user meets: a checkpoint's first open with nothing that needs its hash,
# a pinned 10 GB file opened by a first and a second process, and a 100 GB
# one opened to the end and interrupted by SIGINT.  Files
# live in /var/tmp (a disk: /tmp may be tmpfs) and are removed at the end;
# the file is read once first so every hasher sees the page cache warm.
# usage: bench/hash.sh [BUILD_DIR] [SIZE_MB] [SPARSE_GB] [HUGE_GB]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-${MG_BUILD:-$root/build}}
mb=${2:-2048}
sparse_gb=${3:-10}
huge_gb=${4:-100}
work=$(mktemp -d /var/tmp/mghash.XXXXXX)
trap 'rm -rf "$work"' EXIT

cc -O2 -std=c11 -D_GNU_SOURCE $(pkg-config --cflags hdf5-serial) -o "$work/hash" \
    "$root/bench/hash.c" "$B/libmgcore.a" \
    $(pkg-config --libs libzip openssl jansson inih zlib liblzma libzstd liblz4 hdf5-serial) -lbz2
# Not sparse: real blocks, pseudo-random so no layer can shortcut zeros.
head -c "${mb}M" /dev/urandom > "$work/model.bin"
cat "$work/model.bin" > /dev/null

secs() { local t0 t1; t0=$(date +%s.%N); "$@" > "$work/out"; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
min() { [ "$(echo "$1 < $2" | bc -l)" = 1 ] && echo "$1" || echo "$2"; }

# Alternate the hashers three times and keep each one's best time, so a
# neighbour's burst of load does not decide the ratio.
best_ssl=999999 best_sum=999999 best_ours=999999
for round in 1 2 3; do
	best_ssl=$(min "$(secs openssl dgst -sha256 -r "$work/model.bin")" "$best_ssl")
	theirs=$(cut -d' ' -f1 "$work/out")
	best_sum=$(min "$(secs sha256sum "$work/model.bin")" "$best_sum")
	rm -rf "$work/cache"
	out=$("$work/hash" "$work/model.bin" "$work/cache")
	best_ours=$(min "$(sed -n 's/^ours_s //p' <<<"$out")" "$best_ours")
	ours_hex=$(sed -n 's/^hex //p' <<<"$out")
	lookup=$(sed -n 's/^cached_lookup_us //p' <<<"$out")
	memlookup=$(sed -n 's/^memory_lookup_us //p' <<<"$out")
	[ "$ours_hex" = "$theirs" ] || { echo "hash mismatch: $ours_hex vs $theirs"; exit 1; }
done
rm -f "$work/model.bin"
printf 'hash %d MB: modelgate %.2f s (%.0f MB/s), openssl dgst -sha256 %.2f s, ratio %.2f (>= 0.9 is the goal); sha256sum %.2f s\n' \
    "$mb" "$best_ours" "$(echo "$mb / $best_ours" | bc -l)" "$best_ssl" \
    "$(echo "$best_ssl / $best_ours" | bc -l)" "$best_sum"
printf 'hash cached second lookup: %s us from the cache file (a new process), %s us in-process (medians of 1001)\n' \
    "$lookup" "$memlookup"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$root/bench/hash_open.py" "$B" "${BENCH_HASH_CKPT_MB:-1024}" "$sparse_gb" "$huge_gb"

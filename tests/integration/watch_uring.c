/*
 * watch_uring.c - test_watch's io_uring opener: open argv[1] read-only
 * with one IORING_OP_OPENAT (raw system calls, no liburing), print the
 * completion's result (a descriptor, or -errno) and, on success, the
 * file's size as read through that descriptor.  Exit 0 when the ring
 * worked (whatever the open's result), 3 when io_uring is unavailable.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct io_uring_params p;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	unsigned char *sq, *cq;
	unsigned *sq_tail, *sq_array, *cq_head, *cq_tail, *cq_mask;
	char buf[4096];
	long total = 0, n;
	int ring, res;

	if (argc != 2)
		return 2;
	memset(&p, 0, sizeof(p));
	ring = (int)syscall(__NR_io_uring_setup, 1, &p);
	if (ring < 0) {
		printf("unavailable %s\n", strerror(errno));
		return 3;
	}
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned),
	          PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(*cqe),
	          PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_CQ_RING);
	sqe = mmap(NULL, p.sq_entries * sizeof(*sqe), PROT_READ | PROT_WRITE,
	           MAP_SHARED, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqe == MAP_FAILED) {
		printf("unavailable mmap: %s\n", strerror(errno));
		return 3;
	}
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_tail = (unsigned *)(cq + p.cq_off.tail);
	cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_OPENAT;
	sqe->fd = AT_FDCWD;
	sqe->addr = (unsigned long)argv[1];
	sqe->open_flags = O_RDONLY;
	sq_array[0] = 0;
	__atomic_store_n(sq_tail, *sq_tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS,
	            NULL, 0) < 0) {
		printf("unavailable enter: %s\n", strerror(errno));
		return 3;
	}
	while (__atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head)
		;
	cqe = (struct io_uring_cqe *)(cq + p.cq_off.cqes) +
	      (*cq_head & *cq_mask);
	res = cqe->res;
	if (res >= 0) {
		while ((n = read(res, buf, sizeof(buf))) > 0)
			total += n;
		printf("fd %d read %ld\n", res, total);
	} else {
		printf("error %d %s\n", -res, strerror(-res));
	}
	return 0;
}

/*
 * Twin of workloads/multi-fault.spf (KAMEZAWA Hiroyuki's multi-fault test of 2009, written from
 * the workload's description, not from its code): one anonymous private mapping of
 * threads * span bytes, split into one VMA per thread by a one-page PROT_NONE hole at the end
 * of every span; then `threads` pinned threads each run `rounds` rounds of
 *
 *   barrier; store to one byte per page of the first `area` bytes of its own span; barrier;
 *   madvise(MADV_DONTNEED) of that area (the next round faults again)
 *
 * One op is one page written. The real test runs for 60 s; this one, like the model, runs a
 * fixed number of rounds. Build: cc -O2 -pthread multi-fault.c
 */
#define TWIN_WORK "rounds"
#define TWIN_PARAM
#define TWIN_INIT
#include "twin.h"

static const char *twin_name = "multi-fault";

static size_t span = 8u << 20, area = 2u << 20;
static char *buf;

static int twin_param(const char *key, const char *value)
{
	if (strcmp(key, "span") == 0) span = parse_size(value);
	else if (strcmp(key, "area") == 0) area = parse_size(value);
	else return 0;
	return 1;
}

static void twin_init(long threads)
{
	if (span % (size_t)pagesize != 0 || area % (size_t)pagesize != 0 || area == 0 || area > span - (size_t)pagesize) {
		fprintf(stderr, "%s: span and area whole pages, 0 < area <= span - one page, please\n", twin_name);
		exit(2);
	}
	buf = mmap(NULL, (size_t)threads * span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) die("mmap");
	for (long i = 1; i <= threads; i++)
		if (mprotect(buf + i * span - pagesize, (size_t)pagesize, PROT_NONE) != 0) die("mprotect");
}

/* The round's calls once, on pages not yet there: their code is faulted in by the set-up. */
static void twin_setup(struct twin_task *t)
{
	if (madvise(buf + (size_t)t->idx * span, area, MADV_DONTNEED) != 0) die("madvise");
	twin_barrier();
}

static void twin_round(struct twin_task *t)
{
	volatile char *c = buf + (size_t)t->idx * span;
	twin_barrier();
	for (size_t i = 0; i < area; i += (size_t)pagesize) {
		c[i] = 0;
		t->ops++;
	}
	twin_barrier();
	if (madvise((void *)c, area, MADV_DONTNEED) != 0) die("madvise");
}

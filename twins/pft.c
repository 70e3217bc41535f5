/*
 * Twin of workloads/pft.spf (the page fault test as mmtests packages it, written from the
 * workload's description, not from pft's code): `iterations` pft runs, each: the main thread
 * maps `size` bytes of private anonymous memory (one VMA), starts `threads` pinned threads that
 * wait at a barrier until all are started, then each stores to one byte per page of its own
 * equal, page-aligned share of the region; the main thread joins them and unmaps the region.
 * One op is one page written. The model repeats runs for a time, or runs `iterations` of them
 * (as here). Build: cc -O2 -pthread pft.c
 */
#define TWIN_SIZE
#define TWIN_PER_RUN
#include "twin.h"

static const char *twin_name = "pft";

static char *region;
static size_t region_size, share;

static void twin_run_begin(long threads, size_t size)
{
	region_size = size;
	share = (size / (size_t)pagesize / (size_t)threads) * (size_t)pagesize;
	region = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) die("mmap");
}

static void twin_run_end(void)
{
	munmap(region, region_size);
}

/* Nothing but starting (the set-up pass starts and joins the threads once, untimed). */
static void twin_setup(struct twin_task *t)
{
	(void)t;
}

static void twin_round(struct twin_task *t)
{
	volatile char *c = region + (size_t)t->idx * share;
	for (size_t i = 0; i < share; i += (size_t)pagesize) {
		c[i] = 0;
		t->ops++;
	}
}

/*
 * Twin of workloads/page_fault1.spf (will-it-scale's anonymous page-fault test, written from
 * the workload's description): each task maps `size` bytes of private anonymous memory, writes
 * one byte on each page (one first-touch fault per page), and unmaps it, `iterations` times.
 * One op is one page written. Build: cc -O2 -pthread page_fault1.c
 */
#define TWIN_MODE
#define TWIN_SIZE
#include "twin.h"

static const char *twin_name = "page_fault1";

/* Map and unmap once without touching, so that the code the rounds run is faulted in by the
 * set-up (counted by the empty run too) and not by the first round. */
static void twin_setup(struct twin_task *t)
{
	void *c = mmap(NULL, t->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED) die("mmap");
	munmap(c, t->size);
}

static void twin_round(struct twin_task *t)
{
	volatile char *c = mmap(NULL, t->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED) die("mmap");
	for (size_t i = 0; i < t->size; i += (size_t)pagesize) {
		c[i] = 0;
		t->ops++;
	}
	munmap((void *)c, t->size);
}

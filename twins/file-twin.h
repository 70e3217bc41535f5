/*
 * What page_fault2 and page_fault3 share: each task has its own file of `size` bytes (created
 * in `dir` with mkstemp, unlinked at once, extended with ftruncate), mapped with FILE_TWIN_FLAGS,
 * written one byte per page, and unmapped, `iterations` times. The model's /tmp is tmpfs:
 * calibrate passes a tmpfs dir= (/dev/shm) so that no disk I/O enters the real run either.
 */
#define TWIN_MODE
#define TWIN_SIZE
#define TWIN_DIR
#include "twin.h"

static void twin_setup(struct twin_task *t)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/willitscale.XXXXXX", t->dir);
	t->fd = mkstemp(path);
	if (t->fd < 0) die(path);
	unlink(path);
	if (ftruncate(t->fd, (off_t)t->size) != 0) die("ftruncate");
	/* Map and unmap once without touching: the rounds' code is faulted in by the set-up. */
	void *c = mmap(NULL, t->size, PROT_READ | PROT_WRITE, FILE_TWIN_FLAGS, t->fd, 0);
	if (c == MAP_FAILED) die("mmap");
	munmap(c, t->size);
}

static void twin_round(struct twin_task *t)
{
	volatile char *c = mmap(NULL, t->size, PROT_READ | PROT_WRITE, FILE_TWIN_FLAGS, t->fd, 0);
	if (c == MAP_FAILED) die("mmap");
	for (size_t i = 0; i < t->size; i += (size_t)pagesize) {
		c[i] = 0;
		t->ops++;
	}
	munmap((void *)c, t->size);
}

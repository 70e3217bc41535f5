/*
 * Twin of workloads/ebizzy.spf (ebizzy 0.3, written from the workload's description, not from
 * ebizzy's code): the main thread allocates `chunks` chunks of `chunk_size` bytes and writes
 * every 8-byte record of each (with permissions=1 mprotecting every even chunk read-only after
 * writing it); then `threads` unpinned threads each run `iterations` records:
 *
 *   pick a chunk (always 0: see rand_num), copy_size = chunk_size, or with random_size=1 one
 *   "random" number of records (always one: 8 bytes); allocate the copy (mmap=1: an anonymous
 *   private mmap; else malloc), touch=1: store to one byte per page of it; else memcpy the chunk
 *   into it and bsearch it for key 0; free the copy (munmap, or free). One op is one record.
 *
 * ebizzy runs for a time; the twin runs a fixed number of records per thread, as the model does
 * with iterations > 0, so that the faults of both can be compared exactly. ebizzy's flags, as the
 * workload's parameters: -m mmap=1, -T touch=1, -R random_size=1, -p permissions=1, -n chunks,
 * -s chunk_size, -t threads. Build: cc -O2 -pthread ebizzy.c
 */
#define TWIN_PARAM
#define TWIN_INIT
#define TWIN_NO_PIN
#include "twin.h"

static const char *twin_name = "ebizzy";

static long chunks = 10;
static size_t chunk_size = 512u << 10;
static int use_mmap = 1, touch_only = 1, random_size = 0, permissions = 0;
static uint64_t **mem;  /* the chunk pointer array */

static int twin_param(const char *key, const char *value)
{
	if (strcmp(key, "chunks") == 0) chunks = parse_count(key, value);
	else if (strcmp(key, "chunk_size") == 0) chunk_size = parse_size(value);
	else if (strcmp(key, "mmap") == 0) use_mmap = parse_count(key, value) != 0;
	else if (strcmp(key, "touch") == 0) touch_only = parse_count(key, value) != 0;
	else if (strcmp(key, "random_size") == 0) random_size = parse_count(key, value) != 0;
	else if (strcmp(key, "permissions") == 0) permissions = parse_count(key, value) != 0;
	else return 0;
	return 1;
}

/*
 * ebizzy's generator, with the quirk the workload describes: the multiplier and the increment
 * are added before they multiply the state, so the update is one multiplication, and a state
 * that starts at 0 stays 0: every pick is 0.
 */
static unsigned long rand_num(unsigned long max, unsigned long *state)
{
	*state = *state * (1103515245ul + 12345ul);
	return (*state >> 16) % max;
}

static void *alloc_mem(size_t bytes)
{
	void *p;
	if (use_mmap) {
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) die("mmap");
	} else if ((p = malloc(bytes)) == NULL) {
		die("malloc");
	}
	return p;
}

static void free_mem(void *p, size_t bytes)
{
	if (use_mmap) munmap(p, bytes);
	else free(p);
}

/* allocate() and write_pattern(): the chunks, each record its own index (so the chunk is sorted). */
static void twin_init(long threads)
{
	(void)threads;
	if (chunks < 1 || chunk_size < sizeof(uint64_t)) {
		fprintf(stderr, "%s: chunks >= 1 and chunk_size >= 8, please\n", twin_name);
		exit(2);
	}
	chunk_size -= chunk_size % sizeof(uint64_t);
	mem = alloc_mem((size_t)chunks * sizeof(*mem));
	for (long i = 0; i < chunks; i++) mem[i] = alloc_mem(chunk_size);
	for (long i = 0; i < chunks; i++) {
		for (size_t r = 0; r < chunk_size / sizeof(uint64_t); r++) mem[i][r] = r;
		if (permissions && i % 2 == 0 && mprotect(mem[i], chunk_size, PROT_READ) != 0) die("mprotect");
	}
}

static int cmp_record(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct ebizzy_state {
	unsigned long seed;  /* rand_num's state, per thread, from 0 */
};
static __thread struct ebizzy_state st;

/* The loop's library calls once, on nothing new: their code is faulted in here, not in a record. */
static void twin_setup(struct twin_task *t)
{
	(void)t;
	void *c = alloc_mem(chunk_size);
	free_mem(c, chunk_size);
	uint64_t key = 0;
	if (!touch_only && bsearch(&key, mem[0], chunk_size / sizeof(uint64_t), sizeof(uint64_t), cmp_record) == NULL) {
		fprintf(stderr, "%s: key 0 not found in chunk 0\n", twin_name);
		exit(1);
	}
	st.seed = 0;
}

/* One record of search_mem(). */
static void twin_round(struct twin_task *t)
{
	const uint64_t *src = mem[rand_num((unsigned long)chunks, &st.seed)];
	size_t copy_size = chunk_size;
	if (random_size) copy_size = (rand_num(chunk_size / sizeof(uint64_t), &st.seed) + 1) * sizeof(uint64_t);
	volatile char *copy = alloc_mem(copy_size);
	if (touch_only) {
		for (size_t i = 0; i < copy_size; i += (size_t)pagesize) copy[i] = (char)0xff;
	} else {
		memcpy((void *)copy, src, copy_size);
		uint64_t key = src[rand_num(copy_size / sizeof(uint64_t), &st.seed)];
		if (bsearch(&key, (const void *)copy, copy_size / sizeof(uint64_t), sizeof(uint64_t), cmp_record) == NULL) {
			fprintf(stderr, "%s: a key was not found in its copy\n", twin_name);
			exit(1);
		}
	}
	free_mem((void *)copy, copy_size);
	t->ops++;
}

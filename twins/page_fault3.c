/*
 * Twin of workloads/page_fault3.spf (will-it-scale's shared file mapping test, written from
 * the workload's description): every write is a shared write fault on the task's own file
 * (after the first round the pages stay in the page cache and are only mapped again).
 * Build: cc -O2 -pthread page_fault3.c
 */
#define FILE_TWIN_FLAGS MAP_SHARED
#include "file-twin.h"

static const char *twin_name = "page_fault3";

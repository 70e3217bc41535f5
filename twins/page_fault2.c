/*
 * Twin of workloads/page_fault2.spf (will-it-scale's private file mapping test, written from
 * the workload's description): every write is a copy-on-write fault of the task's own file.
 * Build: cc -O2 -pthread page_fault2.c
 */
#define FILE_TWIN_FLAGS MAP_PRIVATE
#include "file-twin.h"

static const char *twin_name = "page_fault2";

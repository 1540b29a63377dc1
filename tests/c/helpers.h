/* Minimal helpers.h for the lecture's listings (err_sys, err_quit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

static void err_sys(const char *msg) { perror(msg); exit(EXIT_FAILURE); }
static void err_quit(const char *msg) { fprintf(stderr, "%s\n", msg); exit(EXIT_FAILURE); }

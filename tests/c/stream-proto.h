/* stream-proto.h from the lecture (slide 30); SRV_SOCK_PATH may be given with -D for the tests. */
#include <sys/un.h>
#include <sys/socket.h>
#include <unistd.h>
#include "helpers.h"

#ifndef SRV_SOCK_PATH
#define SRV_SOCK_PATH "/tmp/ux_socket"
#endif
#define BUFFSIZE 1024
#define SRV_BACKLOG 100
/* end of stream-proto.h */

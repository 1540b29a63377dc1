"""sockrepl: make AF_UNIX system calls by hand, on real fds held by real processes."""

__version__ = "0.1.0"

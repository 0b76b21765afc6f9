// libedit's readline-compatible API (Debian's libedit-dev), for heapctl's interactive shell.
#include <stdio.h>
#include <editline/readline.h>

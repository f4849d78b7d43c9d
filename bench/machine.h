/* machine.h — what every benchmark prints about the machine it ran on. */
#ifndef STSD_BENCH_MACHINE_H
#define STSD_BENCH_MACHINE_H

#include <stddef.h>

/* The first "model name" of /proc/cpuinfo ("unknown" if none). */
void machine_cpu_model(char *out, size_t len);
/* "Linux 6.1.0 x86_64"; false when uname fails. */
_Bool machine_kernel(char *out, size_t len);
/* The file system under dir by name ("ext2/3/4", "tmpfs"...), else its magic in hex (in buf). */
const char *machine_fs_name(const char *dir, char *buf, size_t len);

#endif

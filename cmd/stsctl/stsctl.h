/* stsctl.h — the subcommands of stsctl. Each takes the arguments after its name and returns the
 * exit status (0 ok, 1 failure, 2 usage error). */
#ifndef STSCTL_H
#define STSCTL_H

#include <stddef.h>

int stsctl_inspect(int argc, char **argv);
int stsctl_dev(int argc, char **argv);
int stsctl_members(int argc, char **argv);
int stsctl_pki(int argc, char **argv);
int stsctl_rollout(int argc, char **argv);
int stsctl_inspect_identities(int argc, char **argv);

/* inspect.c, shared with inspect_identities.c. */
struct store;
/* Open DATA_DIR/store (or DATA_DIR itself) read-only into *out, the directory opened into path;
 * an exit status (1: error printed, prefixed with cmd). */
int inspect_open(const char *cmd, const char *data_dir, struct store **out, char *path, size_t len);
/* Parse "DATA_DIR [-o text|json]"; an exit status (0 go on, 2 usage error printed) or -1 after
 * --help. */
int inspect_args(const char *cmd, int argc, char **argv, const char **dir, const char **format);

#endif

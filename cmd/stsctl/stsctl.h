/* stsctl.h — the subcommands of stsctl. Each takes the arguments after its name and returns the
 * exit status (0 ok, 1 failure, 2 usage error). */
#ifndef STSCTL_H
#define STSCTL_H

int stsctl_inspect(int argc, char **argv);
int stsctl_dev(int argc, char **argv);
int stsctl_members(int argc, char **argv);
int stsctl_pki(int argc, char **argv);

#endif

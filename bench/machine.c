/* machine.c — CPU model, kernel and file system of the machine a benchmark runs on. */
#include "machine.h"

#include <stdbool.h>
#include <stdio.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

void machine_cpu_model(char *out, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512], model[256];

	snprintf(out, len, "unknown");
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "model name : %255[^\n]", model) == 1) {
			snprintf(out, len, "%s", model);
			break;
		}
	}
	if (f != NULL)
		fclose(f);
}

bool machine_kernel(char *out, size_t len)
{
	struct utsname u;

	if (uname(&u) != 0)
		return false;
	snprintf(out, len, "%s %s %s", u.sysname, u.release, u.machine);
	return true;
}

const char *machine_fs_name(const char *dir, char *buf, size_t len)
{
	static const struct {
		unsigned long magic;
		const char *name;
	} known[] = {{0xEF53, "ext2/3/4"},  {0x58465342, "xfs"},       {0x9123683E, "btrfs"},
	             {0x01021994, "tmpfs"}, {0x794C7630, "overlayfs"}, {0x6969, "nfs"}};
	struct statfs st;

	if (statfs(dir, &st) != 0)
		return "unknown";
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if ((unsigned long)st.f_type == known[i].magic)
			return known[i].name;
	snprintf(buf, len, "0x%lx", (unsigned long)st.f_type);
	return buf;
}

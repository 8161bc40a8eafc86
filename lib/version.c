/* ik_version: the linked library's version, for programs built on another. */
#include <ipckit/version.h>

const char *
ik_version(void)
{
	return IK_VERSION_STRING;
}

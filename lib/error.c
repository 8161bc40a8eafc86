/*
 * ik_strerror / ik_errname: one table for ipckit's own codes (IK_ERROR_MAP in
 * <ipckit/error.h>); kernel errno values are named by glibc's thread-safe
 * strerrordesc_np / strerrorname_np.
 */
#include <string.h>

#include <ipckit/error.h>

static const struct {
	int code;
	const char *name;
	const char *msg;
} ik_errors[] = {
#define IK__ERR_ROW(n, off, m) { IK_##n, "IK_" #n, m },
	IK_ERROR_MAP(IK__ERR_ROW)
#undef IK__ERR_ROW
};

static int
normalize(int err)
{
	return err > 0 ? -err : err;
}

const char *
ik_strerror(int err)
{
	const char *s;
	size_t i;

	err = normalize(err);
	if (err == 0)
		return "success";
	for (i = 0; i < sizeof(ik_errors) / sizeof(ik_errors[0]); i++)
		if (ik_errors[i].code == err)
			return ik_errors[i].msg;
	if (-err < IK_EBASE && (s = strerrordesc_np(-err)) != NULL)
		return s;
	return "unknown error";
}

const char *
ik_errname(int err)
{
	const char *s;
	size_t i;

	err = normalize(err);
	if (err == 0)
		return "OK";
	for (i = 0; i < sizeof(ik_errors) / sizeof(ik_errors[0]); i++)
		if (ik_errors[i].code == err)
			return ik_errors[i].name;
	if (-err < IK_EBASE && (s = strerrorname_np(-err)) != NULL)
		return s;
	return "E?";
}

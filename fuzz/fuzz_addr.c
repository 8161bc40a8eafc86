/*
 * libFuzzer target: the address grammar. Any input must parse or be refused
 * with IK_EBADADDR/IK_EBADSCHEME; whatever parses must print back to a form
 * that parses to the same canonical text (a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ipckit/addr.h>
#include <ipckit/error.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ik_addr a, b;
	char text[4096], out[8192], out2[8192], err[512];
	int r, n, n2;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	r = ik_addr_parse(text, &a, err, sizeof(err));
	if (r != 0) {
		if (r != IK_EBADADDR && r != IK_EBADSCHEME)
			abort();
		if (err[0] == '\0')
			abort(); /* every refusal says why */
		return 0;
	}
	n = ik_addr_format(&a, out, sizeof(out));
	if (n < 0 || (size_t)n >= sizeof(out))
		abort();
	if (ik_addr_parse(out, &b, err, sizeof(err)) != 0)
		abort();
	n2 = ik_addr_format(&b, out2, sizeof(out2));
	if (n2 != n || strcmp(out, out2) != 0)
		abort();
	return 0;
}

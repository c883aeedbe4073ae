/* Harness (e): the JSON string writer of out.c. Whatever bytes a Go string
 * held, the output must be valid JSON and valid UTF-8, and it must not lie:
 * each valid UTF-8 sequence comes out as its own code point, each invalid byte
 * as the code point of its value ("\u00XX", out.c's documented rule). The text
 * quoting (out_text_quoted) must be valid UTF-8 with no raw control bytes.
 *
 * Input: one flag byte (bit 0: pretty, bit 1: wrap in an object/array), then
 * the string bytes. */
#include "fuzz_common.h"

#include "out.h"

/* What the writer is documented to produce, as code points. */
static size_t expected_cps(const unsigned char *s, size_t n, uint32_t *cps)
{
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = fz_utf8(s + i, n - i, &cp);
		if (!len) {
			cp = s[i];
			len = 1;
		}
		cps[k++] = cp;
		i += len;
	}
	return k;
}

static void check_text(const unsigned char *s, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		abort();
	out_text_quoted(f, (const char *)s, n);
	fclose(f);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t l = fz_utf8((const unsigned char *)buf + i, len - i, &cp);
		if (!l || cp < 0x20 || cp == 0x7f) {
			fprintf(stderr, "out_text_quoted: bad byte 0x%02x at %zu\n",
				(unsigned char)buf[i], i);
			abort();
		}
		i += l;
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	const unsigned char *s = data + 1;
	size_t n = size - 1;

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		abort();
	struct out o;
	out_init(&o, f, true);
	o.pretty = flags & 1;
	bool wrap = flags & 2;
	if (wrap) {
		out_obj_begin(&o);
		out_key(&o, "k");
		out_arr_begin(&o);
		out_str(&o, "");
	}
	out_strn(&o, (const char *)s, n);
	if (wrap) {
		out_arr_end(&o);
		out_kstr(&o, "z", "\xff\xfe valid? no");
		out_obj_end(&o);
	}
	out_end_line(&o);
	fclose(f);

	struct fz_json j = { .s = (const unsigned char *)buf, .n = len, .collect = true };
	bool ok = fz_json_value(&j);
	fz_json_ws(&j);
	if (!ok || j.i != j.n) {
		fprintf(stderr, "out_strn: invalid JSON at byte %zu of %zu\n", j.i, len);
		abort();
	}
	uint32_t *want = malloc((n + 1) * sizeof(*want));
	if (!want)
		abort();
	size_t nwant = expected_cps(s, n, want);
	/* wrapped: "k", "", <ours>, "z", <fixed>: our string starts after "k" */
	size_t start = wrap ? 1 : 0;
	if (j.ncps < start + nwant || (nwant && memcmp(j.cps + start, want, nwant * sizeof(*want)))) {
		fprintf(stderr, "out_strn: the string does not decode to its bytes\n");
		abort();
	}
	free(want);
	free(j.cps);
	free(buf);
	check_text(s, n);
	return 0;
}

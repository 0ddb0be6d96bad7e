// SPDX-License-Identifier: GPL-2.0
/* png_check: proves a file is a whole, valid PNG (signature, IHDR, full decode with libpng).
 *
 *   png_check FILE.png [RRGGBB...]
 *
 * Checks the 8-byte signature and that the first chunk is a 13-byte IHDR,
 * then decodes every row with libpng (chunk CRCs, zlib stream, filters) and
 * compares the decoded size with the IHDR's. Prints
 *   png ok width=W height=H
 * and, for each colour given, "color RRGGBB pixels=N": how many pixels have
 * exactly that colour (a test measures bars by their area with it).
 * Any failure: one line "png_check: FILE: reason" on stderr, exit 1.
 */
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLORS 8

static const char *path;

static int fail(const char *why)
{
	fprintf(stderr, "png_check: %s: %s\n", path, why);
	return 1;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* libpng reports a decode error here; longjmp back to main's setjmp. */
static void on_png_error(png_structp png, png_const_charp msg)
{
	fprintf(stderr, "png_check: %s: libpng: %s\n", path, msg);
	png_longjmp(png, 1);
}

int main(int argc, char **argv)
{
	static const uint8_t signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint32_t want[MAX_COLORS], ihdr_w, ihdr_h;
	unsigned long count[MAX_COLORS] = { 0 };
	png_structp png = NULL;
	png_infop info = NULL;
	uint8_t head[8 + 8 + 13];
	/* Set after setjmp and read after a longjmp: volatile. */
	png_bytep volatile row = NULL;
	volatile int rc = 1;
	int colors = 0, i;
	png_uint_32 w, h, y, x;
	FILE *f;

	if (argc < 2 || argc - 2 > MAX_COLORS) {
		fprintf(stderr, "usage: png_check FILE.png [RRGGBB...]\n");
		return 2;
	}
	path = argv[1];
	for (i = 2; i < argc; i++)
		want[colors++] = (uint32_t)strtoul(argv[i], NULL, 16);
	f = fopen(path, "rb");
	if (!f)
		return fail("cannot open");
	if (fread(head, 1, sizeof(head), f) != sizeof(head)) {
		fclose(f);
		return fail("shorter than a signature and an IHDR chunk");
	}
	if (memcmp(head, signature, 8)) {
		fclose(f);
		return fail("no PNG signature");
	}
	if (get32(head + 8) != 13 || memcmp(head + 12, "IHDR", 4)) {
		fclose(f);
		return fail("first chunk is not a 13-byte IHDR");
	}
	ihdr_w = get32(head + 16);
	ihdr_h = get32(head + 20);
	if (!ihdr_w || !ihdr_h) {
		fclose(f);
		return fail("IHDR gives a zero size");
	}
	rewind(f);

	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, on_png_error, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	if (!info)
		goto out;
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_init_io(png, f);
	png_read_info(png, info);
	/* Any PNG decodes to 8-bit RGB here, so colours compare the same way. */
	png_set_expand(png);
	png_set_strip_16(png);
	png_set_strip_alpha(png);
	png_set_gray_to_rgb(png);
	png_read_update_info(png, info);
	w = png_get_image_width(png, info);
	h = png_get_image_height(png, info);
	if (w != ihdr_w || h != ihdr_h) {
		fail("decoded size differs from the IHDR's");
		goto out;
	}
	if (png_get_interlace_type(png, info) != PNG_INTERLACE_NONE) {
		fail("interlaced images are not checked");
		goto out;
	}
	row = malloc(png_get_rowbytes(png, info));
	if (!row)
		goto out;
	for (y = 0; y < h; y++) {
		png_read_row(png, row, NULL);
		for (x = 0; x < w; x++) {
			uint32_t rgb = (uint32_t)row[x * 3] << 16 | (uint32_t)row[x * 3 + 1] << 8 |
				       row[x * 3 + 2];

			for (i = 0; i < colors; i++)
				count[i] += rgb == want[i];
		}
	}
	png_read_end(png, NULL); /* the chunks after the image data, CRCs too */
	printf("png ok width=%u height=%u\n", (unsigned int)w, (unsigned int)h);
	for (i = 0; i < colors; i++)
		printf("color %06x pixels=%lu\n", (unsigned int)want[i], count[i]);
	rc = 0;
out:
	png_destroy_read_struct(&png, &info, NULL);
	free(row);
	fclose(f);
	return rc;
}

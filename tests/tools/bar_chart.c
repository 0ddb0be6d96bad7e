// SPDX-License-Identifier: GPL-2.0
/* bar_chart: draws labelled bar charts, one panel per series, into a PNG (libpng).
 *
 *   bar_chart -o FILE.png [-t TITLE]... SERIES... < DATA
 *
 * DATA has one line per bar: a label without spaces, then one value per
 * series, e.g. "10.0.1.1 5400 120" for SERIES "packets" "flows". Each series
 * gets its own panel and scale (packets and flows differ by orders of
 * magnitude), bars in the input's order with their exact value above them.
 * Text is drawn with a built-in 5x7 font, upper case only (no font files, so
 * the chart looks the same everywhere). Exit 1 on bad input or write errors.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BARS 64
#define MAX_SERIES 4
#define MAX_TITLES 4
#define MAX_LABEL 32

/* Layout, in pixels. */
#define MARGIN 16
#define AXIS_W 72     /* left of each plot: scale labels */
#define PLOT_H 280
#define MIN_SLOT 72   /* horizontal room per bar */
#define GRID_STEPS 4

/* --- glyphs -------------------------------------------------------------------------- */

/* 5x7 glyphs, one byte per row, bit 4 = leftmost column. */
struct glyph {
	char c;
	uint8_t rows[7];
};

static const struct glyph font[] = {
	{ '0', { 0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E } },
	{ '1', { 0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E } },
	{ '2', { 0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F } },
	{ '3', { 0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E } },
	{ '4', { 0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02 } },
	{ '5', { 0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E } },
	{ '6', { 0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E } },
	{ '7', { 0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08 } },
	{ '8', { 0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E } },
	{ '9', { 0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C } },
	{ 'A', { 0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11 } },
	{ 'B', { 0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E } },
	{ 'C', { 0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E } },
	{ 'D', { 0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C } },
	{ 'E', { 0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F } },
	{ 'F', { 0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10 } },
	{ 'G', { 0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F } },
	{ 'H', { 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11 } },
	{ 'I', { 0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E } },
	{ 'J', { 0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C } },
	{ 'K', { 0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11 } },
	{ 'L', { 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F } },
	{ 'M', { 0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11 } },
	{ 'N', { 0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11 } },
	{ 'O', { 0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E } },
	{ 'P', { 0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10 } },
	{ 'Q', { 0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D } },
	{ 'R', { 0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11 } },
	{ 'S', { 0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E } },
	{ 'T', { 0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04 } },
	{ 'U', { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E } },
	{ 'V', { 0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04 } },
	{ 'W', { 0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A } },
	{ 'X', { 0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11 } },
	{ 'Y', { 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04 } },
	{ 'Z', { 0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F } },
	{ '.', { 0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C } },
	{ ',', { 0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08 } },
	{ ':', { 0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00 } },
	{ '/', { 0x01, 0x02, 0x02, 0x04, 0x08, 0x08, 0x10 } },
	{ '*', { 0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00 } },
	{ '-', { 0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00 } },
	{ '+', { 0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00 } },
	{ '=', { 0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00 } },
	{ '_', { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F } },
	{ '(', { 0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02 } },
	{ ')', { 0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08 } },
	{ '<', { 0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02 } },
	{ '>', { 0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08 } },
	{ '%', { 0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03 } },
	{ '?', { 0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04 } },
};

static const uint8_t *glyph_rows(char c)
{
	size_t i;

	c = (char)toupper((unsigned char)c);
	for (i = 0; i < sizeof(font) / sizeof(font[0]); i++)
		if (font[i].c == c)
			return font[i].rows;
	return NULL;
}

/* --- canvas -------------------------------------------------------------------------- */

struct rgb {
	uint8_t r, g, b;
};

static const struct rgb WHITE = { 255, 255, 255 }, INK = { 34, 34, 34 },
			GRID = { 221, 221, 221 }, AXIS = { 120, 120, 120 };
/* One colour per series (panel). */
static const struct rgb series_colors[MAX_SERIES] = {
	{ 0x4c, 0x78, 0xa8 }, { 0xf5, 0x85, 0x18 }, { 0x54, 0xa2, 0x4b }, { 0xb2, 0x79, 0xa2 },
};

struct canvas {
	int width, height;
	uint8_t *pixels; /* RGB rows */
};

static void fill(struct canvas *c, int x, int y, int w, int h, struct rgb color)
{
	int i, j;

	for (j = y < 0 ? 0 : y; j < y + h && j < c->height; j++) {
		for (i = x < 0 ? 0 : x; i < x + w && i < c->width; i++) {
			uint8_t *p = c->pixels + ((size_t)j * (size_t)c->width + (size_t)i) * 3;

			p[0] = color.r;
			p[1] = color.g;
			p[2] = color.b;
		}
	}
}

/* A glyph is 5 columns plus 1 of spacing, 7 rows, times @scale. */
static int text_width(const char *s, int scale)
{
	return (int)strlen(s) * 6 * scale - scale;
}

static void text(struct canvas *c, int x, int y, int scale, struct rgb color, const char *s)
{
	int row, col;

	for (; *s; s++, x += 6 * scale) {
		const uint8_t *rows = *s == ' ' ? NULL : glyph_rows(*s);

		if (*s != ' ' && !rows)
			rows = glyph_rows('?');
		for (row = 0; rows && row < 7; row++)
			for (col = 0; col < 5; col++)
				if (rows[row] & (0x10 >> col))
					fill(c, x + col * scale, y + row * scale, scale, scale,
					     color);
	}
}

static void text_centered(struct canvas *c, int center, int y, int scale, struct rgb color,
			  const char *s)
{
	text(c, center - text_width(s, scale) / 2, y, scale, color, s);
}

/* --- chart --------------------------------------------------------------------------- */

struct chart {
	const char *titles[MAX_TITLES];
	int title_count;
	const char *series[MAX_SERIES];
	int series_count;
	char labels[MAX_BARS][MAX_LABEL];
	double values[MAX_BARS][MAX_SERIES];
	int bar_count;
};

/* The smallest of these times a power of ten that is >= @max: a quarter of
 * each is a round scale step.
 */
static double nice_max(double max)
{
	static const double steps[] = { 1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10 };
	double power;
	size_t i;

	if (max <= 0)
		return 1;
	power = pow(10, floor(log10(max)));
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i] * power >= max)
			return steps[i] * power;
	return 10 * power;
}

/* 2500 -> "2.5K": scale labels are read at a glance. */
static void compact(double v, char *buf, size_t len)
{
	static const char *const suffix[] = { "", "K", "M", "G", "T" };
	size_t i = 0;

	while (v >= 1000 && i + 1 < sizeof(suffix) / sizeof(suffix[0])) {
		v /= 1000;
		i++;
	}
	if (v == floor(v))
		snprintf(buf, len, "%.0f%s", v, suffix[i]);
	else
		snprintf(buf, len, "%.1f%s", v, suffix[i]);
}

static void draw_panel(struct canvas *c, const struct chart *ch, int s, int x0, int y0, int slot,
		       int label_scale)
{
	int plot_x = x0 + AXIS_W, plot_w = slot * ch->bar_count, i, step;
	double max = 0, top;
	char buf[64];

	for (i = 0; i < ch->bar_count; i++)
		if (ch->values[i][s] > max)
			max = ch->values[i][s];
	top = nice_max(max);
	text_centered(c, plot_x + plot_w / 2, y0, 2, INK, ch->series[s]);
	y0 += 24 + 20; /* panel title, then room for the value above a full bar */
	for (step = 0; step <= GRID_STEPS; step++) {
		int y = y0 + PLOT_H - (int)lround((double)PLOT_H * step / GRID_STEPS);

		fill(c, plot_x, y, plot_w, 1, step ? GRID : AXIS);
		compact(top * step / GRID_STEPS, buf, sizeof(buf));
		text(c, plot_x - 8 - text_width(buf, 1), y - 3, 1, INK, buf);
	}
	fill(c, plot_x, y0, 1, PLOT_H + 1, AXIS);
	for (i = 0; i < ch->bar_count; i++) {
		int h = (int)lround(ch->values[i][s] / top * PLOT_H);
		int bar_w = slot * 3 / 5, center = plot_x + slot * i + slot / 2, value_scale;

		fill(c, center - bar_w / 2, y0 + PLOT_H - h, bar_w, h, series_colors[s]);
		snprintf(buf, sizeof(buf), "%.0f", ch->values[i][s]);
		value_scale = label_scale == 2 && text_width(buf, 2) <= slot - 4 ? 2 : 1;
		text_centered(c, center, y0 + PLOT_H - h - 7 * value_scale - 5, value_scale, INK,
			      buf);
		text_centered(c, center, y0 + PLOT_H + 8, label_scale, INK, ch->labels[i]);
	}
}

static int write_png(const struct canvas *c, const char *path)
{
	FILE *f = fopen(path, "wb");
	png_structp png = NULL;
	png_infop info = NULL;
	int y;

	if (!f)
		return -errno;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	if (!info || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		fclose(f);
		return -EIO;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)c->width, (png_uint_32)c->height, 8,
		     PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < c->height; y++)
		png_write_row(png, c->pixels + (size_t)y * (size_t)c->width * 3);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return fclose(f) ? -errno : 0;
}

static int read_data(struct chart *ch)
{
	char line[512];
	int lineno = 0;

	while (fgets(line, sizeof(line), stdin)) {
		char *tok = strtok(line, " \t\n");
		int s;

		lineno++;
		if (!tok)
			continue;
		if (ch->bar_count == MAX_BARS) {
			fprintf(stderr, "bar_chart: more than %d bars\n", MAX_BARS);
			return -1;
		}
		snprintf(ch->labels[ch->bar_count], MAX_LABEL, "%s", tok);
		for (s = 0; s < ch->series_count; s++) {
			char *end;

			tok = strtok(NULL, " \t\n");
			ch->values[ch->bar_count][s] = tok ? strtod(tok, &end) : -1;
			if (!tok || *end || ch->values[ch->bar_count][s] < 0) {
				fprintf(stderr, "bar_chart: line %d: expected %d values >= 0\n",
					lineno, ch->series_count);
				return -1;
			}
		}
		ch->bar_count++;
	}
	if (!ch->bar_count) {
		fprintf(stderr, "bar_chart: no data\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct chart ch = { 0 };
	struct canvas c = { 0 };
	const char *out = NULL;
	int opt, i, slot, label_scale = 2, panel_w, y, err;

	while ((opt = getopt(argc, argv, "o:t:")) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 't':
			if (ch.title_count < MAX_TITLES)
				ch.titles[ch.title_count++] = optarg;
			break;
		default: goto usage;
		}
	}
	for (; optind < argc && ch.series_count < MAX_SERIES; optind++)
		ch.series[ch.series_count++] = argv[optind];
	if (!out || !ch.series_count || optind < argc)
		goto usage;
	if (read_data(&ch))
		return 1;

	/* Bars get the room of their widest label; many bars, smaller labels. */
	slot = MIN_SLOT;
	for (i = 0; i < ch.bar_count; i++)
		if (text_width(ch.labels[i], 2) + 16 > slot)
			slot = text_width(ch.labels[i], 2) + 16;
	if (slot * ch.bar_count > 900) {
		label_scale = 1;
		slot = MIN_SLOT / 2;
		for (i = 0; i < ch.bar_count; i++)
			if (text_width(ch.labels[i], 1) + 8 > slot)
				slot = text_width(ch.labels[i], 1) + 8;
	}
	panel_w = AXIS_W + slot * ch.bar_count + MARGIN * 2;
	c.width = MARGIN + panel_w * ch.series_count;
	for (i = 0; i < ch.title_count; i++)
		if (MARGIN * 2 + text_width(ch.titles[i], 2) > c.width)
			c.width = MARGIN * 2 + text_width(ch.titles[i], 2);
	c.height = MARGIN + ch.title_count * 24 + 16 + 24 + 20 + PLOT_H + 8 + 14 + MARGIN * 2;
	c.pixels = malloc((size_t)c.width * (size_t)c.height * 3);
	if (!c.pixels)
		return 1;
	fill(&c, 0, 0, c.width, c.height, WHITE);
	y = MARGIN;
	for (i = 0; i < ch.title_count; i++, y += 24)
		text(&c, MARGIN, y, 2, INK, ch.titles[i]);
	y += 16;
	for (i = 0; i < ch.series_count; i++)
		draw_panel(&c, &ch, i, MARGIN + panel_w * i, y, slot, label_scale);
	err = write_png(&c, out);
	free(c.pixels);
	if (err) {
		fprintf(stderr, "bar_chart: Failed to write %s: %s\n", out, strerror(-err));
		return 1;
	}
	return 0;
usage:
	fprintf(stderr, "usage: bar_chart -o FILE.png [-t TITLE]... SERIES... < DATA\n"
			"DATA: one line per bar: LABEL VALUE... (one value per series)\n");
	return 2;
}

// SPDX-License-Identifier: GPL-2.0
/* config.yaml's YAML layer: bytes -> libyaml's node tree, within limits; see
 * yaml_reader.h. What the nodes mean is the schema's (config.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"
#include "yaml_reader.h"

/* Where messages go, and the file's name for them. */
struct reader {
	const char *name;
	char *err;
	size_t err_len;
};

void lb_yaml_message(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

const char *lb_yaml_render(char *out, const void *text, size_t len, bool quoted)
{
	const unsigned char *s = text;
	size_t o = 0, i;

	if (quoted)
		out[o++] = '"';
	for (i = 0; i < len && i < LB_YAML_SHOWN_CHARS; i++) {
		if (s[i] == '"' || s[i] == '\\')
			o += sprintf(out + o, "\\%c", s[i]);
		else if (s[i] < 0x20 || s[i] >= 0x7f)
			o += sprintf(out + o, "\\x%02x", s[i]);
		else
			out[o++] = s[i];
	}
	if (i < len)
		o += sprintf(out + o, "...");
	if (quoted)
		out[o++] = '"';
	out[o] = '\0';
	return out;
}

static int out_of_memory(struct reader *r)
{
	lb_yaml_message(r->err, r->err_len, "%s: out of memory", r->name);
	return -1;
}

/* --- libyaml's errors ------------------------------------------------------------- */

/* Reader errors give a byte offset rather than a mark. */
static yaml_mark_t mark_of_offset(const char *text, size_t len, size_t offset)
{
	yaml_mark_t mark = { 0 };
	size_t i;

	for (i = 0; i < offset && i < len; i++) {
		if (text[i] == '\n') {
			mark.line++;
			mark.column = 0;
		} else {
			mark.column++;
		}
	}
	mark.index = i;
	return mark;
}

static void yaml_error(struct reader *r, const yaml_parser_t *yaml, const char *text, size_t len)
{
	const char *problem = yaml->problem ? yaml->problem : "unknown problem";
	yaml_mark_t mark = yaml->problem_mark;

	switch (yaml->error) {
	case YAML_NO_ERROR:
		/* libyaml 0.2.5's composer fails a lost strdup() without setting an error. */
	case YAML_MEMORY_ERROR:
		out_of_memory(r);
		return;
	case YAML_READER_ERROR:
		mark = mark_of_offset(text, len, yaml->problem_offset);
		if (yaml->problem_value >= 0)
			lb_yaml_message(r->err, r->err_len, "%s:%zu:%zu: YAML error: %s (0x%x)",
					r->name, mark.line + 1, mark.column + 1, problem,
					yaml->problem_value);
		else
			lb_yaml_message(r->err, r->err_len, "%s:%zu:%zu: YAML error: %s", r->name,
					mark.line + 1, mark.column + 1, problem);
		return;
	default:
		if (yaml->context)
			lb_yaml_message(r->err, r->err_len,
					"%s:%zu:%zu: YAML error: %s (%s at %zu:%zu)", r->name,
					mark.line + 1, mark.column + 1, problem, yaml->context,
					yaml->context_mark.line + 1, yaml->context_mark.column + 1);
		else
			lb_yaml_message(r->err, r->err_len, "%s:%zu:%zu: YAML error: %s", r->name,
					mark.line + 1, mark.column + 1, problem);
	}
}

/* --- limits, before the tree is built -------------------------------------------- */

/* libyaml's document loader has no limits of its own, and what it spends grows
 * with the square of some inputs: 100000 nested "[" took it 30 s, 200000 anchors
 * 77 s, and every node costs it about 150 bytes. So one pass over the parser's
 * events comes first: it keeps no tree (its memory is the parser's own, bounded
 * by the depth it allows) and stops at the first limit crossed. A syntax error
 * ends the pass without a message: the loader meets the same error at the same
 * place, unless it has something to say first (an undefined alias), and up to
 * there the file kept every limit.
 */
static int limit_at(struct reader *r, const yaml_mark_t *mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int limit_at(struct reader *r, const yaml_mark_t *mark, const char *fmt, ...)
{
	char what[LB_CONFIG_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	lb_yaml_message(r->err, r->err_len, "%s:%zu:%zu: YAML limit: %s", r->name,
			mark->line + 1, mark->column + 1, what);
	return -1;
}

static const yaml_char_t *event_anchor(const yaml_event_t *event)
{
	switch (event->type) {
	case YAML_SCALAR_EVENT:
		return event->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return event->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return event->data.mapping_start.anchor;
	default:
		return NULL;
	}
}

/* 0 when the stream keeps the limits (or has a syntax error, left to the loader). */
static int check_event(struct reader *r, const yaml_event_t *event, size_t *depth,
		       size_t *anchors, size_t *aliases, size_t *nodes)
{
	const yaml_mark_t *mark = &event->start_mark;
	const yaml_char_t *anchor = event_anchor(event);
	char shown[LB_YAML_QUOTED_LEN];

	switch (event->type) {
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (++*depth > LB_CONFIG_MAX_DEPTH)
			return limit_at(r, mark,
					"lists and mappings nested %zu deep, the limit is %u",
					*depth, LB_CONFIG_MAX_DEPTH);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		--*depth;
		return 0;
	case YAML_ALIAS_EVENT:
		if (++*aliases > LB_CONFIG_MAX_ALIASES) {
			anchor = event->data.alias.anchor;
			lb_yaml_render(shown, anchor, strlen((const char *)anchor), false);
			return limit_at(r, mark, "alias number %zu (*%s), the limit is %u",
					*aliases, shown, LB_CONFIG_MAX_ALIASES);
		}
		return 0;
	case YAML_SCALAR_EVENT:
		break;
	default:
		return 0;
	}
	/* A scalar, a list or a mapping: a node of the tree. */
	if (++*nodes > LB_CONFIG_MAX_NODES)
		return limit_at(r, mark, "node number %zu (a key, value, list or mapping), the "
				"limit is %u", *nodes, LB_CONFIG_MAX_NODES);
	if (anchor && ++*anchors > LB_CONFIG_MAX_ANCHORS)
		return limit_at(r, mark, "anchor number %zu (&%s), the limit is %u", *anchors,
				lb_yaml_render(shown, anchor, strlen((const char *)anchor), false),
				LB_CONFIG_MAX_ANCHORS);
	return 0;
}

static int check_limits(struct reader *r, const char *text, size_t len)
{
	size_t depth = 0, anchors = 0, aliases = 0, nodes = 0;
	yaml_mark_t mark;
	yaml_parser_t yaml;
	yaml_event_t event;
	bool done = false;
	int ret = 0;

	/* Reading it cost nothing yet: say where the file crosses the limit. */
	if (len > LB_CONFIG_MAX_SIZE) {
		mark = mark_of_offset(text, len, LB_CONFIG_MAX_SIZE);
		return limit_at(r, &mark, "the file is longer than the limit, %u bytes (%u MiB)",
				LB_CONFIG_MAX_SIZE, LB_CONFIG_MAX_SIZE >> 20);
	}
	if (!yaml_parser_initialize(&yaml))
		return out_of_memory(r);
	yaml_parser_set_input_string(&yaml, (const unsigned char *)text, len);
	while (!done && !ret) {
		if (!yaml_parser_parse(&yaml, &event)) {
			if (yaml.error == YAML_MEMORY_ERROR)
				ret = out_of_memory(r);
			break;
		}
		ret = check_event(r, &event, &depth, &anchors, &aliases, &nodes);
		done = event.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&event);
	}
	yaml_parser_delete(&yaml);
	return ret;
}

/* --- the tree ---------------------------------------------------------------------- */

/* Loads the one document of the stream; a second document is an error, not ignored. */
static int load_document(struct reader *r, yaml_parser_t *yaml, yaml_document_t *doc,
			 const char *text, size_t len)
{
	yaml_document_t extra;
	yaml_node_t *extra_root;
	yaml_mark_t mark;

	if (!yaml_parser_load(yaml, doc)) {
		yaml_error(r, yaml, text, len);
		return -1;
	}
	if (!yaml_parser_load(yaml, &extra)) {
		yaml_error(r, yaml, text, len);
		yaml_document_delete(doc);
		return -1;
	}
	extra_root = yaml_document_get_root_node(&extra);
	if (extra_root)
		mark = extra_root->start_mark;
	yaml_document_delete(&extra);
	if (extra_root) {
		yaml_document_delete(doc);
		/* The schema's form, "file:line:col: field: what", at the top level. */
		lb_yaml_message(r->err, r->err_len, "%s:%zu:%zu: top level: a second YAML document "
				"starts here, the file must hold only one", r->name, mark.line + 1,
				mark.column + 1);
		return -1;
	}
	return 0;
}

int lb_yaml_load(const char *name, const char *text, size_t len, yaml_document_t *doc,
		 char *err, size_t err_len)
{
	struct reader r = { .name = name, .err = err, .err_len = err_len };
	yaml_parser_t yaml;
	int ret;

	if (!yaml_parser_initialize(&yaml))
		return out_of_memory(&r);
	yaml_parser_set_input_string(&yaml, (const unsigned char *)text, len);
	ret = check_limits(&r, text, len);
	if (!ret)
		ret = load_document(&r, &yaml, doc, text, len);
	yaml_parser_delete(&yaml);
	return ret;
}

/* --- the file ---------------------------------------------------------------------- */

/* The whole file in memory: libyaml then reports reader errors at an offset we can map.
 * Only one byte more than LB_CONFIG_MAX_SIZE is read: that is enough for the limit's
 * message, and a huge file (or an endless one: /dev/zero) costs no more than that.
 */
int lb_yaml_read_file(const char *path, char **text, size_t *len, char *err, size_t err_len)
{
	size_t size = 0, capacity = 0, got;
	char *buf = NULL, *bigger;
	int saved;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		lb_yaml_message(err, err_len, "Failed to open config file %s: %s", path,
				strerror(errno));
		return -1;
	}
	while (size <= LB_CONFIG_MAX_SIZE) {
		if (size == capacity) {
			capacity = capacity ? capacity * 2 : 4096;
			if (capacity > LB_CONFIG_MAX_SIZE + 1)
				capacity = LB_CONFIG_MAX_SIZE + 1;
			bigger = realloc(buf, capacity);
			if (!bigger) {
				saved = ENOMEM;
				goto fail;
			}
			buf = bigger;
		}
		got = fread(buf + size, 1, capacity - size, f);
		size += got;
		if (got)
			continue;
		if (ferror(f)) {
			saved = errno;
			goto fail;
		}
		break;
	}
	fclose(f);
	*text = buf;
	*len = size;
	return 0;

fail:
	fclose(f);
	free(buf);
	lb_yaml_message(err, err_len, "Failed to read config file %s: %s", path,
			strerror(saved));
	return -1;
}


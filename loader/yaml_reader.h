/* SPDX-License-Identifier: GPL-2.0 */
/* The YAML layer of config.yaml: the file's bytes -> libyaml's node tree.
 *
 * Before libyaml builds a tree, one pass over its events checks the limits of
 * config.h (size, nesting, anchors, aliases, nodes): the document loader has
 * none of its own and costs the square of some inputs. Then the one document
 * is loaded (a second one is an error). Every node of the tree carries its
 * line:column (yaml_node_t.start_mark, counted from 0). What the nodes mean,
 * and every check of a value, is the schema's (config.c).
 *
 * Messages are one line: "file:line:col: YAML limit: what", "file:line:col:
 * YAML error: what" (libyaml's words), or "file: out of memory".
 */
#ifndef LB_YAML_READER_H
#define LB_YAML_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

/* Characters of a value or key shown in a message; each may take 4 bytes escaped. */
#define LB_YAML_SHOWN_CHARS 40
#define LB_YAML_QUOTED_LEN (LB_YAML_SHOWN_CHARS * 4 + 8)

/* Reads the file @path whole into @text (malloc'd, @len bytes), but never
 * more than one byte past LB_CONFIG_MAX_SIZE: enough for the limit's message,
 * and a huge or endless file (/dev/zero) costs no more. 0, or -1 with one line
 * in @err ("Failed to open config file ...: why").
 */
int lb_yaml_read_file(const char *path, char **text, size_t *len, char *err, size_t err_len);

/* Checks the limits on @text, then loads its one document into @doc; @name
 * stands for the file in messages. 0: @doc holds the tree (its root is NULL
 * for an empty file) and the caller yaml_document_delete()s it; -1: one line
 * in @err and nothing to free.
 */
int lb_yaml_load(const char *name, const char *text, size_t len, yaml_document_t *doc,
		 char *err, size_t err_len);

/* Copies @text into @out (LB_YAML_QUOTED_LEN bytes) as one printable line:
 * quotes, backslashes and control or non-ASCII bytes are escaped, and a long
 * text is cut with "...". A message must stay one line whatever the file holds.
 */
const char *lb_yaml_render(char *out, const void *text, size_t len, bool quoted);

/* snprintf into @err, which may be NULL or empty. */
void lb_yaml_message(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* LB_YAML_READER_H */

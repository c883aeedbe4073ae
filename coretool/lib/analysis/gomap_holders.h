/* Bridge from the holders scan to the map model: names the map entry (map
 * path and key) whose key or value slot is at an address. */
#ifndef CT_GOMAP_HOLDERS_H
#define CT_GOMAP_HOLDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target.h"

/* Writes e.g. `main.cache["big"] (value)` into buf and returns true when `at`
 * lies in a key or value slot of a live entry of a map reachable from globals. */
bool gomap_holder_describe(struct target *t, uint64_t at, char *buf, size_t n);
/* The same question without the rendering: is `at` in such a slot? */
bool gomap_holder_is_slot(struct target *t, uint64_t at);

/* The first global map whose writer flag is set (a writer was inside when
 * the process died: the map of a "concurrent map writes"). */
bool gomap_writing_map(struct target *t, char *buf, size_t n, uint64_t *addr);

/* The path of the global map whose header is at `header`. */
bool gomap_map_with_header(struct target *t, uint64_t header, char *buf, size_t n);

struct gomap_holders;

#endif


/*
 * ngx_race workers: a map from strings to pointers.
 *
 * Open addressing with linear probing, FNV-1a hashes, kept at most half
 * full.  Keys are copied; values belong to the caller.  No removal: a
 * map is emptied as a whole, which is how the workers use it (a tick
 * takes every pending change at once).
 */


#ifndef _RACE_MAP_H_INCLUDED_
#define _RACE_MAP_H_INCLUDED_


#include <stddef.h>


typedef struct {
    char                   *key;        /* NULL: a free slot */
    void                   *value;
} race_map_entry_t;


typedef struct {
    race_map_entry_t       *entries;
    size_t                  size;       /* a power of two, or 0 */
    size_t                  n;
} race_map_t;


typedef void (*race_map_free_pt)(void *value);


void race_map_init(race_map_t *m);

/* the entry of key, or NULL */
race_map_entry_t *race_map_find(const race_map_t *m, const char *key);

/* the entry of key, added with a NULL value if new; NULL if out of memory */
race_map_entry_t *race_map_add(race_map_t *m, const char *key);

/* the next used entry from *i on, or NULL at the end; start with *i = 0 */
race_map_entry_t *race_map_next(const race_map_t *m, size_t *i);

/* removes every entry, calling free_value (if not NULL) on each value */
void race_map_clear(race_map_t *m, race_map_free_pt free_value);


#endif /* _RACE_MAP_H_INCLUDED_ */

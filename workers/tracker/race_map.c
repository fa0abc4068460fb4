
/*
 * ngx_race workers: a map from strings to pointers.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "race_map.h"


#define RACE_MAP_MIN_SIZE  16


static uint64_t race_map_hash(const char *key);
static int race_map_grow(race_map_t *m);


void
race_map_init(race_map_t *m)
{
    m->entries = NULL;
    m->size = 0;
    m->n = 0;
}


race_map_entry_t *
race_map_find(const race_map_t *m, const char *key)
{
    size_t             i;
    race_map_entry_t  *e;

    if (m->size == 0) {
        return NULL;
    }

    for (i = race_map_hash(key) & (m->size - 1); /* void */;
         i = (i + 1) & (m->size - 1))
    {
        e = &m->entries[i];

        if (e->key == NULL) {
            return NULL;
        }

        if (strcmp(e->key, key) == 0) {
            return e;
        }
    }
}


race_map_entry_t *
race_map_add(race_map_t *m, const char *key)
{
    size_t             i;
    race_map_entry_t  *e;

    e = race_map_find(m, key);
    if (e != NULL) {
        return e;
    }

    if ((m->n + 1) * 2 > m->size && race_map_grow(m) != 0) {
        return NULL;
    }

    for (i = race_map_hash(key) & (m->size - 1);
         m->entries[i].key != NULL;
         i = (i + 1) & (m->size - 1))
    {
        /* void */
    }

    e = &m->entries[i];

    e->key = strdup(key);
    if (e->key == NULL) {
        return NULL;
    }

    e->value = NULL;
    m->n++;

    return e;
}


race_map_entry_t *
race_map_next(const race_map_t *m, size_t *i)
{
    race_map_entry_t  *e;

    while (*i < m->size) {
        e = &m->entries[(*i)++];

        if (e->key != NULL) {
            return e;
        }
    }

    return NULL;
}


void
race_map_clear(race_map_t *m, race_map_free_pt free_value)
{
    size_t  i;

    for (i = 0; i < m->size; i++) {
        if (m->entries[i].key == NULL) {
            continue;
        }

        if (free_value != NULL) {
            free_value(m->entries[i].value);
        }

        free(m->entries[i].key);
    }

    free(m->entries);
    race_map_init(m);
}


/* FNV-1a, 64 bits */

static uint64_t
race_map_hash(const char *key)
{
    uint64_t  h;

    h = 14695981039346656037ULL;

    while (*key != '\0') {
        h ^= (unsigned char) *key++;
        h *= 1099511628211ULL;
    }

    return h;
}


static int
race_map_grow(race_map_t *m)
{
    size_t             i, j, size;
    race_map_entry_t  *entries;

    size = m->size ? m->size * 2 : RACE_MAP_MIN_SIZE;

    entries = calloc(size, sizeof(race_map_entry_t));
    if (entries == NULL) {
        return -1;
    }

    for (i = 0; i < m->size; i++) {
        if (m->entries[i].key == NULL) {
            continue;
        }

        for (j = race_map_hash(m->entries[i].key) & (size - 1);
             entries[j].key != NULL;
             j = (j + 1) & (size - 1))
        {
            /* void */
        }

        entries[j] = m->entries[i];
    }

    free(m->entries);
    m->entries = entries;
    m->size = size;

    return 0;
}

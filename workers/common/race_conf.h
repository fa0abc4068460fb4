
/*
 * ngx_race workers: table-driven settings.
 *
 * Each daemon describes its settings in one table of race_conf_setting_t
 * (name, type, default, bounds) over a struct of its own, and gets the
 * defaults, a redis.conf-style file ("name value" lines, # comments) and
 * command line overrides from here.  Every value, the defaults included,
 * goes through race_conf_set(), so a bad value is caught the same way
 * wherever it comes from, before the daemon connects to anything.
 */


#ifndef _RACE_CONF_H_INCLUDED_
#define _RACE_CONF_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define RACE_CONF_ERR_MAX  512


typedef enum {
    RACE_CONF_STR = 0,      /* char *, its length within min..max */
    RACE_CONF_INT,          /* int64_t within min..max */
    RACE_CONF_ENUM          /* int, the index of the value in values[] */
} race_conf_type_e;


/* an extra check of a value: 0 if fine, -1 with the reason in reason */
typedef int (*race_conf_check_pt)(const char *value, char *reason,
    size_t size);


typedef struct {
    const char                 *name;
    race_conf_type_e            type;
    size_t                      offset;    /* of the field in the struct */
    const char                 *dflt;
    int64_t                     min;
    int64_t                     max;
    const char *const          *values;    /* ENUM: NULL-terminated */
    race_conf_check_pt          check;     /* or NULL */
} race_conf_setting_t;


/*
 * All of them return 0, or -1 with a message naming the setting and
 * quoting the value in err (RACE_CONF_ERR_MAX bytes suffice).  A table
 * ends with an entry whose name is NULL.
 */
int race_conf_defaults(const race_conf_setting_t *table, void *conf,
    char *err, size_t size);
int race_conf_set(const race_conf_setting_t *table, void *conf,
    const char *name, const char *value, char *err, size_t size);

/* "name=value", as given to --set */
int race_conf_set_arg(const race_conf_setting_t *table, void *conf,
    const char *arg, char *err, size_t size);

int race_conf_load(const race_conf_setting_t *table, void *conf,
    const char *path, char *err, size_t size);

/* frees the strings race_conf_set() allocated */
void race_conf_free(const race_conf_setting_t *table, void *conf);


#endif /* _RACE_CONF_H_INCLUDED_ */


/*
 * ngx_race workers: table-driven settings.
 */


#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race_conf.h"


static const race_conf_setting_t *race_conf_find(
    const race_conf_setting_t *table, const char *name);
static int race_conf_error(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int race_conf_line(const race_conf_setting_t *table, void *conf,
    char *line, char *err, size_t size);


int
race_conf_defaults(const race_conf_setting_t *table, void *conf, char *err,
    size_t size)
{
    const race_conf_setting_t  *s;

    for (s = table; s->name != NULL; s++) {
        if (race_conf_set(table, conf, s->name, s->dflt, err, size) != 0) {
            return -1;
        }
    }

    return 0;
}


int
race_conf_set(const race_conf_setting_t *table, void *conf, const char *name,
    const char *value, char *err, size_t size)
{
    int                         i;
    char                       *end, *copy, **str, reason[256];
    size_t                      len;
    int64_t                     n;
    long long                   ll;
    const race_conf_setting_t  *s;

    s = race_conf_find(table, name);
    if (s == NULL) {
        return race_conf_error(err, size, "unknown setting \"%s\"", name);
    }

    switch (s->type) {

    case RACE_CONF_STR:
        len = strlen(value);

        if ((int64_t) len < s->min || (int64_t) len > s->max) {
            return race_conf_error(err, size,
                                   "%s: \"%s\" must be %lld to %lld "
                                   "characters long", s->name, value,
                                   (long long) s->min, (long long) s->max);
        }

        break;

    case RACE_CONF_INT:
        errno = 0;
        ll = strtoll(value, &end, 10);

        if (value[0] == '\0' || isspace((unsigned char) value[0])
            || *end != '\0')
        {
            return race_conf_error(err, size,
                                   "%s: \"%s\" is not a number (%lld..%lld)",
                                   s->name, value, (long long) s->min,
                                   (long long) s->max);
        }

        n = (int64_t) ll;

        /* ERANGE: a number all the same, beyond any bounds */

        if (errno != 0 || n < s->min || n > s->max) {
            return race_conf_error(err, size,
                                   "%s: \"%s\" is out of range (%lld..%lld)",
                                   s->name, value, (long long) s->min,
                                   (long long) s->max);
        }

        *(int64_t *) ((char *) conf + s->offset) = n;
        return 0;

    case RACE_CONF_ENUM:
        for (i = 0; s->values[i] != NULL; i++) {
            if (strcmp(value, s->values[i]) == 0) {
                *(int *) ((char *) conf + s->offset) = i;
                return 0;
            }
        }

        len = 0;
        reason[0] = '\0';

        for (i = 0; s->values[i] != NULL && len < sizeof(reason); i++) {
            len += snprintf(reason + len, sizeof(reason) - len, "%s%s",
                            i ? ", " : "", s->values[i]);
        }

        return race_conf_error(err, size, "%s: \"%s\" is not one of %s",
                               s->name, value, reason);
    }

    if (s->check != NULL
        && s->check(value, reason, sizeof(reason)) != 0)
    {
        return race_conf_error(err, size, "%s: \"%s\" %s", s->name, value,
                               reason);
    }

    copy = strdup(value);
    if (copy == NULL) {
        return race_conf_error(err, size, "%s: out of memory", s->name);
    }

    str = (char **) ((char *) conf + s->offset);
    free(*str);
    *str = copy;

    return 0;
}


int
race_conf_set_arg(const race_conf_setting_t *table, void *conf,
    const char *arg, char *err, size_t size)
{
    int          rc;
    char        *name, *eq;

    name = strdup(arg);
    if (name == NULL) {
        return race_conf_error(err, size, "out of memory");
    }

    eq = strchr(name, '=');
    if (eq == NULL || eq == name) {
        rc = race_conf_error(err, size,
                             "\"%s\": expected name=value", arg);
        free(name);
        return rc;
    }

    *eq = '\0';

    rc = race_conf_set(table, conf, name, eq + 1, err, size);

    free(name);

    return rc;
}


int
race_conf_load(const race_conf_setting_t *table, void *conf,
    const char *path, char *err, size_t size)
{
    int          rc;
    FILE        *f;
    char        *line, msg[RACE_CONF_ERR_MAX];
    size_t       cap;
    ssize_t      n;
    unsigned     lineno;

    f = fopen(path, "r");
    if (f == NULL) {
        return race_conf_error(err, size, "%s: %s", path, strerror(errno));
    }

    line = NULL;
    cap = 0;
    lineno = 0;
    rc = 0;

    for ( ;; ) {
        errno = 0;
        n = getline(&line, &cap, f);

        if (n < 0) {
            if (errno != 0 || ferror(f)) {
                rc = race_conf_error(err, size, "%s: %s", path,
                                     strerror(errno ? errno : EIO));
            }

            break;
        }

        lineno++;

        if ((size_t) n != strlen(line)) {
            rc = race_conf_error(err, size, "%s:%u: a NUL byte", path,
                                 lineno);
            break;
        }

        if (race_conf_line(table, conf, line, msg, sizeof(msg)) != 0) {
            rc = race_conf_error(err, size, "%s:%u: %s", path, lineno, msg);
            break;
        }
    }

    free(line);
    fclose(f);

    return rc;
}


void
race_conf_free(const race_conf_setting_t *table, void *conf)
{
    char                       **str;
    const race_conf_setting_t   *s;

    for (s = table; s->name != NULL; s++) {
        if (s->type == RACE_CONF_STR) {
            str = (char **) ((char *) conf + s->offset);
            free(*str);
            *str = NULL;
        }
    }
}


static const race_conf_setting_t *
race_conf_find(const race_conf_setting_t *table, const char *name)
{
    for ( /* void */ ; table->name != NULL; table++) {
        if (strcmp(table->name, name) == 0) {
            return table;
        }
    }

    return NULL;
}


static int
race_conf_error(char *err, size_t size, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(err, size, fmt, args);
    va_end(args);

    return -1;
}


/*
 * "name value", "name "quoted value"", blank lines and "# comments".
 * A value runs to the end of the line, trailing blanks cut; quotes keep
 * them and allow a '#', and have no escapes.
 */

static int
race_conf_line(const race_conf_setting_t *table, void *conf, char *line,
    char *err, size_t size)
{
    char    *name, *value, *end;
    size_t   len;

    len = strlen(line);

    while (len > 0 && isspace((unsigned char) line[len - 1])) {
        line[--len] = '\0';
    }

    name = line;

    while (isspace((unsigned char) *name)) {
        name++;
    }

    if (*name == '\0' || *name == '#') {
        return 0;
    }

    value = name;

    while (*value != '\0' && !isspace((unsigned char) *value)) {
        value++;
    }

    if (*value == '\0') {
        return race_conf_error(err, size, "%s: no value", name);
    }

    *value++ = '\0';

    while (isspace((unsigned char) *value)) {
        value++;
    }

    if (*value == '"') {
        end = value + strlen(value) - 1;

        if (end == value || *end != '"') {
            return race_conf_error(err, size, "%s: %s: unbalanced quotes",
                                   name, value);
        }

        *end = '\0';
        value++;
    }

    return race_conf_set(table, conf, name, value, err, size);
}

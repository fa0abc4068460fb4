
/*
 * ngx_race: the names everything agrees on: race, rider and token ids,
 * and Kafka topic names.
 *
 * A pure core: one rule each, used by the module, the workers and the
 * tools alike, so that no side accepts a name another refuses.
 */


#ifndef _RACE_ID_H_INCLUDED_
#define _RACE_ID_H_INCLUDED_


#include <stddef.h>


#define RACE_ID_MAX          64       /* race, rider, jti, sub */
#define RACE_ID_TOPIC_MAX    249      /* Kafka's own limit */


/* 1 if s[0..len) is a valid race or rider id: [A-Za-z0-9_-]{1,64} */
int race_id_valid(const char *s, size_t len);

/*
 * 1 if s[0..len) is a name Kafka takes for a topic: 1 to 249 of
 * [A-Za-z0-9._-], other than "." and "..".
 */
int race_id_topic_valid(const char *s, size_t len);


#endif /* _RACE_ID_H_INCLUDED_ */


/*
 * ngx_race: what waits for a report that may come after it has gone,
 * found again by an id of this worker process's: a ride for its
 * delivery reports, an API request for race-accounts' reply.  The report
 * carries the id, never a pointer, and finds nothing once it is gone.
 * It knows nothing else of the module.
 */


#ifndef _NGX_HTTP_RACE_PENDING_H_INCLUDED_
#define _NGX_HTTP_RACE_PENDING_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    ngx_rbtree_t               tree;
    ngx_rbtree_node_t          sentinel;
    ngx_rbtree_key_t           last_id;
} ngx_http_race_pending_t;


void ngx_http_race_pending_init(ngx_http_race_pending_t *p);

/* gives node the next id, in node->key, and adds it */
void ngx_http_race_pending_add(ngx_http_race_pending_t *p,
    ngx_rbtree_node_t *node);

/* the node with this id, or NULL: it has gone */
ngx_rbtree_node_t *ngx_http_race_pending_find(ngx_http_race_pending_t *p,
    ngx_rbtree_key_t id);

#define ngx_http_race_pending_delete(p, node)                                \
    ngx_rbtree_delete(&(p)->tree, node)

#define ngx_http_race_pending_empty(p)                                       \
    ((p)->tree.root == (p)->tree.sentinel)


#endif /* _NGX_HTTP_RACE_PENDING_H_INCLUDED_ */
